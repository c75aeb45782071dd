"""Sandbox latency: cold run, warm session call and 100 short calls, against two anchors.

Anchors, measured in the same run: smolagents' in-process ``LocalPythonExecutor`` (no security
boundary) and a plain ``subprocess.run([python, "-c", code])`` with the sandbox's interpreter.
Goals from the issue: cold <= 150 ms, warm <= 20 ms.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import report  # noqa: E402

from autan.config import load_settings  # noqa: E402
from autan.tools.sandbox import SandboxExecutor  # noqa: E402
from autan.tools.sandbox.launch import interpreter  # noqa: E402

COLD_REPEATS = 15
WARM_REPEATS = 50
BURST = 100


def median_ms(func: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``func`` in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def total_s(func: Callable[[], object], calls: int) -> float:
    """Seconds for ``calls`` calls in a row."""
    start = time.perf_counter()
    for _ in range(calls):
        func()
    return time.perf_counter() - start


def check(result: object) -> object:
    """Fail loudly when a measured call did not succeed."""
    if getattr(result, "ok", True) is False:
        raise SystemExit(f"benchmark call failed: {result}")
    return result


def measure_autan(backend: str) -> tuple[float, float, float]:
    """Cold run, warm call and 100 calls of autan's executor."""
    executor = SandboxExecutor(load_settings(sandbox={"backend": backend}).sandbox)
    cold = median_ms(lambda: check(executor.run("x = 1")), COLD_REPEATS)
    with executor.session() as session:
        session.run("x = 0")
        warm = median_ms(lambda: check(session.run("x += 1")), WARM_REPEATS)
        burst = total_s(lambda: check(session.run("x += 1")), BURST)
    return cold, warm, burst


def measure_smolagents() -> tuple[float, float, float]:
    """The same for smolagents' in-process executor."""
    from smolagents.local_python_executor import LocalPythonExecutor

    def fresh() -> None:
        executor = LocalPythonExecutor(additional_authorized_imports=[])
        executor.send_tools({})
        executor("x = 1")

    executor = LocalPythonExecutor(additional_authorized_imports=[])
    executor.send_tools({})
    executor("x = 0")
    cold = median_ms(fresh, COLD_REPEATS)
    warm = median_ms(lambda: executor("x += 1"), WARM_REPEATS)
    return cold, warm, total_s(lambda: executor("x += 1"), BURST)


def measure_subprocess(python: str) -> tuple[float, float, float]:
    """A fresh interpreter per call: cold and warm are the same thing."""

    def once() -> None:
        subprocess.run([python, "-c", "x = 1"], check=True)

    cold = median_ms(once, COLD_REPEATS)
    return cold, cold, total_s(once, BURST)


def main() -> None:
    """Measure every system in one run and write the table."""
    python = str(interpreter(load_settings().sandbox))
    systems = {
        "autan sandbox (bubblewrap)": measure_autan("bubblewrap"),
        "autan unsafe-host (same worker, no isolation)": measure_autan("unsafe-host"),
        f"subprocess.run([{Path(python).name}, -c])": measure_subprocess(python),
        "smolagents LocalPythonExecutor (in-process)": measure_smolagents(),
    }
    anchor = systems[f"subprocess.run([{Path(python).name}, -c])"]
    rows = [
        [
            name,
            f"{cold:.1f}",
            f"{warm:.2f}",
            f"{burst:.2f}",
            f"{cold / anchor[0]:.2f}x",
        ]
        for name, (cold, warm, burst) in systems.items()
    ]
    cold, warm, _ = systems["autan sandbox (bubblewrap)"]
    report(
        "Sandbox: cold run, warm session call, 100 short calls",
        [
            "system",
            "cold run ms (median)",
            "warm call ms (median)",
            "100 calls s",
            "cold vs subprocess",
        ],
        rows,
        script="benchmarks/sandbox.py",
        notes=(
            f"Goals: cold <= 150 ms ({'met' if cold <= 150 else 'NOT met'}: {cold:.0f} ms), "
            f"warm <= 20 ms ({'met' if warm <= 20 else 'NOT met'}: {warm:.1f} ms). Cold = start a "
            "sandbox, run `x = 1`, tear it down. Warm = `x += 1` in a live session (fork of the "
            "state holder, output pipes, JSON reply). smolagents runs in-process and is no "
            "security boundary; subprocess.run has no isolation and keeps no state."
        ),
    )


if __name__ == "__main__":
    main()

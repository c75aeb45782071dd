"""CLI start-up: ``autan --help`` wall time vs ``python -c "import langgraph.graph"``."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import report  # noqa: E402

RUNS = 10
BIN = Path(sys.executable).parent


def wall(cmd: list[str]) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def heavy_modules() -> str:
    probe = (
        "import sys, autan.cli.app;"
        "print(','.join(m for m in ('torch','transformers','qdrant_client','langgraph')"
        " if m in sys.modules) or 'none')"
    )
    return subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout.strip()


def main() -> None:
    anchor = wall([sys.executable, "-c", "import langgraph.graph"])
    autan_help = wall([str(BIN / "autan"), "--help"])
    bare = wall([sys.executable, "-c", "pass"])
    rows = [
        ["python -c 'import langgraph.graph' (anchor)", f"{anchor * 1000:.0f}", "1.00×"],
        ["autan --help", f"{autan_help * 1000:.0f}", f"{autan_help / anchor:.2f}×"],
        ["python -c 'pass'", f"{bare * 1000:.0f}", f"{bare / anchor:.2f}×"],
    ]
    report(
        "CLI start-up",
        ["command", "ms (median of 10)", "vs anchor"],
        rows,
        script="benchmarks/startup.py",
        notes=f"Goal: `autan --help` ≤ 300 ms. Heavy modules the CLI imports: {heavy_modules()}.",
    )


if __name__ == "__main__":
    main()

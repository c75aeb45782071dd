"""Cost of tracing per agent step: autan's graph untraced (anchor) vs traced.

The function-backed planner and trivial tool of benchmarks/overhead.py run STEPS tool steps with
no guard rails, so the time per step is the framework's own. "Traced" records every span into an
in-memory exporter (the cost of building spans, not of the network). Goal: on < 10 %; off is
the default path, one check per span site.
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore")

from autan import Agent, FunctionChatModel, load_settings, tracing  # noqa: E402
from autan.guards.base import passthrough_runner  # noqa: E402
from benchmarks._report import report  # noqa: E402
from benchmarks.overhead import STEPS, noop, planner  # noqa: E402

REPEATS = 5


def per_step_ms() -> float:
    settings = load_settings()
    settings.planner.max_steps = STEPS + 5
    agent = Agent(
        FunctionChatModel(func=planner),
        settings=settings,
        tools=[noop],
        guards=passthrough_runner(),
    )
    start = time.perf_counter()
    assert agent.ask("go").text == "finished"
    return (time.perf_counter() - start) / STEPS * 1000


def main() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    off: list[float] = []
    on: list[float] = []
    for _ in range(REPEATS):  # interleaved, so drift in machine load hits both alike
        tracing.configure(None)
        off.append(per_step_ms())
        tracing.configure(provider)
        on.append(per_step_ms())
        exporter.clear()
    tracing.configure(None)
    anchor, traced = statistics.median(off), statistics.median(on)
    rows = [
        ["tracing off (default; anchor)", f"{anchor:.2f}", "1.00×"],
        ["tracing on, every span recorded", f"{traced:.2f}", f"{traced / anchor:.2f}×"],
    ]
    report(
        "Tracing overhead per agent step",
        ["configuration", f"ms per step (median of {REPEATS} runs × {STEPS} steps)", "vs anchor"],
        rows,
        script="benchmarks/tracing_overhead.py",
        notes=(
            "Tracing off is the code path every run takes by default: one check per span site, "
            "no OpenTelemetry import. Goal: on < 1.10× the anchor."
        ),
    )


if __name__ == "__main__":
    main()

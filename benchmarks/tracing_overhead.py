"""Cost of tracing per agent step: autan's graph untraced (anchor) vs traced.

The function-backed planner and trivial tool of benchmarks/overhead.py run STEPS tool steps with
no guard rails, so the time per step is the framework's own. "Traced" records every span into an
in-memory exporter (the cost of building spans, not of the network), through a batch processor as
an ``OTEL_EXPORTER_OTLP_ENDPOINT`` sets it up (export on a worker thread), and
through a simple processor that exports inline in the traced thread. Goal: on < 10 %; off is the
default path, one check per span site.
"""

from __future__ import annotations

import os
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
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    batched, inline = TracerProvider(), TracerProvider()
    batched.add_span_processor(BatchSpanProcessor(exporter))
    inline.add_span_processor(SimpleSpanProcessor(exporter))
    setups = {"off": None, "batch": batched, "inline": inline}
    times: dict[str, list[float]] = {name: [] for name in setups}
    for _ in range(REPEATS):  # interleaved, so drift in machine load hits all alike
        for name, provider in setups.items():
            tracing.configure(provider)
            times[name].append(per_step_ms())
        batched.force_flush()
        exporter.clear()
    tracing.configure(None)
    anchor = statistics.median(times["off"])
    batch, simple = statistics.median(times["batch"]), statistics.median(times["inline"])
    rows = [
        ["tracing off (default; anchor)", f"{anchor:.2f}", "1.00×"],
        [
            "tracing on, every span recorded, batch export (autan's OTLP set-up)",
            f"{batch:.2f}",
            f"{batch / anchor:.2f}×",
        ],
        ["tracing on, every span exported inline", f"{simple:.2f}", f"{simple / anchor:.2f}×"],
    ]
    report(
        "Tracing overhead per agent step",
        ["configuration", f"ms per step (median of {REPEATS} runs × {STEPS} steps)", "vs anchor"],
        rows,
        script="benchmarks/tracing_overhead.py",
        notes=(
            "Tracing off is the code path every run takes by default: one check per span site, "
            "no OpenTelemetry import. Goal: on < 1.10× the anchor, with the batch export "
            f"autan configures. Load average at the end: {os.getloadavg()[0]:.1f}."
        ),
    )


if __name__ == "__main__":
    main()

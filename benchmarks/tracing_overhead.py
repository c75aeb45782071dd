"""Cost of tracing per agent step: autan's graph untraced (anchor) vs traced.

The same function-backed planner and trivial tool run STEPS tool steps with no guard rails, so the
time per step is the framework's own; "traced" records every span into an in-memory exporter
(the cost of building spans, not of the network). Goal: off < 2 % (tracing is off by default and
costs a check per span site), on < 10 %.
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore")

from langchain_core.messages import AIMessage, BaseMessage  # noqa: E402
from langchain_core.tools import tool  # noqa: E402

from autan import Agent, FunctionChatModel, load_settings, tracing  # noqa: E402
from autan.guards.base import passthrough_runner  # noqa: E402
from benchmarks._report import report  # noqa: E402

STEPS = 150
REPEATS = 5


@tool
def noop(n: int) -> dict[str, Any]:
    """Return its input.

    Args:
        n: any integer
    """
    return {"ok": True, "n": n}


def planner(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
    done = sum(1 for m in messages if m.type == "tool")
    if done >= STEPS:
        return AIMessage(content="finished")
    return AIMessage(
        content="", tool_calls=[{"name": "noop", "args": {"n": done}, "id": f"c{done}"}]
    )


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

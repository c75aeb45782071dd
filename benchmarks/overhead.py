"""Per-step framework overhead: autan's agent graph vs LangChain's create_agent.

Both drive the same function-backed fake model and the same trivial tool for STEPS tool steps,
with an in-memory checkpointer, in the same process. The fake model costs ~nothing, so the time
per step is the framework's own.
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

from langchain.agents import create_agent  # noqa: E402
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage  # noqa: E402
from langchain_core.tools import tool  # noqa: E402
from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402

from autan import Agent, FunctionChatModel, load_settings  # noqa: E402
from autan.guards.base import passthrough_runner  # noqa: E402
from benchmarks._report import report  # noqa: E402

STEPS = 200
REPEATS = 3


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


def run_autan(guards: str) -> float:
    settings = load_settings()
    settings.planner.max_steps = STEPS + 5
    runner = passthrough_runner() if guards == "none" else None
    agent = Agent(FunctionChatModel(func=planner), settings=settings, tools=[noop], guards=runner)
    start = time.perf_counter()
    answer = agent.ask("go")
    elapsed = time.perf_counter() - start
    assert answer.text == "finished", answer.text
    return elapsed


def run_create_agent() -> float:
    graph = create_agent(FunctionChatModel(func=planner), [noop], checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "b"}, "recursion_limit": STEPS * 3 + 10}
    start = time.perf_counter()
    out = graph.invoke({"messages": [HumanMessage(content="go")]}, config)
    elapsed = time.perf_counter() - start
    assert out["messages"][-1].content == "finished"
    return elapsed


def main() -> None:
    timings: dict[str, list[float]] = {"anchor": [], "autan": [], "autan+policy": []}
    for _ in range(REPEATS):  # interleaved, so machine noise hits every contender alike
        timings["anchor"].append(run_create_agent())
        timings["autan"].append(run_autan("none"))
        timings["autan+policy"].append(run_autan("policy"))
    anchor = statistics.median(timings["anchor"])
    labels = {
        "anchor": "langchain create_agent (anchor)",
        "autan": "autan graph, pass-through guards",
        "autan+policy": "autan graph, default guard policy",
    }
    rows = []
    for key, values in timings.items():
        med = statistics.median(values)
        rows.append([labels[key], f"{med / STEPS * 1000:.2f}", f"{med / anchor:.2f}×"])
    report(
        "Agent loop overhead per step",
        ["graph", "ms per tool step (median of 3)", "vs anchor"],
        rows,
        script="benchmarks/overhead.py",
        notes=(
            f"{STEPS} tool steps per run with a zero-cost function model and a no-op tool, "
            "in-memory checkpointer for both. Goal: autan ≤ 1.3× the anchor with pass-through "
            "guards. The policy row adds the default rails (every tool result is checked)."
        ),
    )


if __name__ == "__main__":
    main()

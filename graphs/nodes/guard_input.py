"""guard_input: the user's message passes the input rails before the planner sees it."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from autan.graphs.context import AgentContext
from autan.graphs.nodes._guarding import record, refusal, settle
from autan.graphs.state import AgentState, Node, current_turn


def make_guard_input(ctx: AgentContext) -> Node:
    """Build the node for ``ctx``."""

    def guard_input(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        question = current_turn(state["messages"])[0]
        text = str(question.content)
        run_id = config.get("configurable", {}).get("thread_id")
        verdict = settle("input", ctx.guards.check(text, "input", {"run_id": run_id}))
        update: dict[str, Any] = {"verdicts": [record("input", verdict)], "blocked": False}
        if verdict.action == "block":
            update["blocked"] = True
            update["messages"] = [AIMessage(content=refusal("input", verdict))]
        elif verdict.text != text:
            update["messages"] = [HumanMessage(content=verdict.text, id=question.id)]
        return update

    return guard_input

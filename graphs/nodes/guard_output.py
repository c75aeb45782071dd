"""guard_output: the final answer passes the output rails (grounding sees this turn's citations)."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig

from autan.graphs.context import AgentContext
from autan.graphs.nodes._guarding import record, refusal, settle
from autan.graphs.state import AgentState, Node, citations


def make_guard_output(ctx: AgentContext) -> Node:
    """Build the node for ``ctx``."""

    def guard_output(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        messages = state["messages"]
        answer = messages[-1]
        text = str(answer.content)
        facts = {
            "run_id": config.get("configurable", {}).get("thread_id"),
            "citations": citations(messages),
        }
        verdict = settle("output", ctx.guards.check(text, "output", facts))
        update: dict[str, Any] = {"verdicts": [record("output", verdict)]}
        if verdict.action == "block":
            update["blocked"] = True
            update["messages"] = [AIMessage(content=refusal("output", verdict), id=answer.id)]
        elif verdict.text != text:
            update["messages"] = [answer.model_copy(update={"content": verdict.text})]
        return update

    return guard_output

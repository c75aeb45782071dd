"""guard_tool_output: tool results pass the tool-output rails before the planner reads them.

Indirect prompt injection arrives here (fetched pages, retrieved passages); the checks are the
guarded tool runner's (``GuardedTools.output``), shared with the automation engine. A block
withholds the whole result.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.runnables import RunnableConfig

from autan.graphs.context import AgentContext
from autan.graphs.nodes._guarding import settle
from autan.graphs.state import AgentState, Node, current_turn, tool_result
from autan.tools.guarded import GuardedTools, guard_result, guard_value

__all__ = ["guard_result", "guard_value", "make_guard_tool_output"]


def make_guard_tool_output(ctx: AgentContext) -> Node:
    """Build the node for ``ctx``."""
    runner = GuardedTools(ctx.guards)

    def guard_tool_output(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        messages = state["messages"]
        last_ai = max(i for i, m in enumerate(messages) if isinstance(m, AIMessage))
        run_id = config.get("configurable", {}).get("thread_id")
        guarded: list[ToolMessage] = []
        recorded: list[dict[str, Any]] = []
        made = sum(1 for m in current_turn(messages) if isinstance(m, ToolMessage))
        for m in messages[last_ai + 1 :]:
            if not isinstance(m, ToolMessage):
                continue
            parsed = tool_result(m)
            raw: Any = parsed if parsed is not None else str(m.content)
            facts = {"run_id": run_id, "tool_calls": made}
            out = runner.output(m.name or "", raw, ask=settle, facts=facts)
            recorded += out.verdicts
            cleaned = out.result
            content = cleaned if isinstance(cleaned, str) else json.dumps(cleaned, default=str)
            guarded.append(m.model_copy(update={"content": content}))
        return {"messages": guarded, "verdicts": recorded}

    return guard_tool_output

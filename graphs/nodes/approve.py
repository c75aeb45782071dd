"""approve: a human approves, edits or denies calls to tools that require approval.

The node has no side effects, so LangGraph re-running it on resume is harmless; the approved
calls then run once in the tools node.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import interrupt

from autan.graphs.context import AgentContext
from autan.graphs.nodes.tools import pending_calls
from autan.graphs.state import AgentState, Node
from autan.tools.base import fail
from autan.tools.workspace.approval import pinned, preview


def make_approve(ctx: AgentContext) -> Node:
    """Build the node for ``ctx``.

    The interrupt payload is ``{"type": "approval", "calls": [{id, name, args, preview?}]}``
    (``preview``: the diff an editing tool would make); the resume value maps call id to
    ``{"decision": "approve" | "deny" | "edit", "args": {...}}`` (a bare ``"approve"``/``"deny"``
    string applies to every call).
    """

    def approve(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        messages = state["messages"]
        calls = [c for c in pending_calls(messages) if c["name"] in ctx.requires_approval]
        if not calls:
            return {}
        asked = [_asked(ctx, c) for c in calls]
        answer = interrupt({"type": "approval", "calls": asked})
        decisions = {c["id"]: answer for c in calls} if isinstance(answer, str) else answer or {}
        last_ai = next(m for m in reversed(messages) if isinstance(m, AIMessage))
        edited: dict[str, ToolCall] = {c["id"] or "": c for c in last_ai.tool_calls}
        replies: list[BaseMessage] = []
        for call in calls:
            d = decisions.get(call["id"], "deny")
            decision = d if isinstance(d, str) else d.get("decision", "deny")
            if decision == "edit" and isinstance(d, dict):
                args = dict(d.get("args") or {})
                edited[call["id"] or ""] = ToolCall(name=call["name"], args=args, id=call["id"])
            elif decision != "approve":
                body = fail("Denied", "a human reviewer denied this call; do not retry it")
                replies.append(
                    ToolMessage(
                        content=json.dumps(body),
                        tool_call_id=call["id"] or "",
                        name=call["name"],
                        status="error",
                    )
                )
        update_ai = last_ai.model_copy(update={"tool_calls": list(edited.values())})
        return {"messages": [update_ai, *replies]}

    return approve


def make_pin(ctx: AgentContext) -> Node:
    """Build the node that pins each gated edit to the content hashes its diff is made against.

    It runs before ``approve`` and writes the pinned calls into the state, so the diff the human
    sees and the call that runs after approval are tied to the same content: a file that changes
    while the human decides makes the call report a conflict instead of overwriting the change.
    """

    def pin(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        messages = state["messages"]
        gated = {c["id"] for c in pending_calls(messages) if c["name"] in ctx.requires_approval}
        last_ai = next(m for m in reversed(messages) if isinstance(m, AIMessage))
        calls: list[ToolCall] = []
        for call in last_ai.tool_calls:
            args = call["args"]
            if call["id"] in gated and call["name"] in ctx.tools:
                args = pinned(args, preview(ctx.tools.get(call["name"]), args))
            calls.append(ToolCall(name=call["name"], args=args, id=call["id"]))
        if all(a["args"] == b["args"] for a, b in zip(calls, last_ai.tool_calls, strict=True)):
            return {}
        return {"messages": [last_ai.model_copy(update={"tool_calls": calls})]}

    return pin


def _asked(ctx: AgentContext, call: ToolCall) -> dict[str, Any]:
    """One call as the human sees it, with the diff it would make when it edits files."""
    asked: dict[str, Any] = {"id": call["id"], "name": call["name"], "args": call["args"]}
    if call["name"] in ctx.tools:
        shown = preview(ctx.tools.get(call["name"]), call["args"])
        if shown is not None:
            asked["preview"] = shown
    return asked

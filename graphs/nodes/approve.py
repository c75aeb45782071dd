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

from autan.errors import UserInputError
from autan.graphs.context import AgentContext
from autan.graphs.nodes.tools import pending_calls
from autan.graphs.state import AgentState, Node
from autan.tools.base import fail
from autan.tools.workspace.approval import pinned, preview


def make_approve(ctx: AgentContext) -> Node:
    """Build the node for ``ctx``.

    The interrupt payload is ``{"type": "approval", "calls": [{id, name, args, preview?}]}``
    (``preview``: the diff an editing tool would make); the resume value maps call id to
    ``{"decision": "approve" | "deny" | "edit", "args": {...}}``; a bare ``"approve"``/``"deny"``
    or one ``{"decision": ...}`` applies to every call.
    """

    def approve(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        messages = state["messages"]
        calls = [c for c in pending_calls(messages) if c["name"] in ctx.requires_approval]
        if not calls:
            return {}
        asked = [_asked(ctx, c) for c in calls]
        answer = interrupt({"type": "approval", "calls": asked})
        decisions = resume_decisions(answer, [c["id"] or "" for c in calls])
        last_ai = next(m for m in reversed(messages) if isinstance(m, AIMessage))
        edited: dict[str, ToolCall] = {c["id"] or "": c for c in last_ai.tool_calls}
        replies: list[BaseMessage] = []
        for call in calls:
            d = decisions.get(call["id"] or "", {"decision": "deny"})
            decision = d["decision"]
            if decision == "edit":
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


DECISIONS = ("approve", "deny", "edit")
RESUME_HINT = (
    'resume with "approve", "deny", {"decision": "approve"} or '
    '{"<call id>": {"decision": "edit", "args": {...}}}'
)


def _one_decision(value: Any) -> dict[str, Any]:
    """``"approve"`` or ``{"decision": ..., "args": ...}`` as a checked dict."""
    d = {"decision": value} if isinstance(value, str) else value
    if not isinstance(d, dict) or d.get("decision") not in DECISIONS:
        raise UserInputError(f"not an approval decision: {value!r}", hint=RESUME_HINT)
    if d["decision"] == "edit" and not isinstance(d.get("args"), dict):
        raise UserInputError("an edit decision needs new arguments", hint=RESUME_HINT)
    return d


def resume_decisions(answer: Any, call_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The decision for each pending call; one decision for all, or one per call id.

    A value that is not a decision raises instead of silently denying (calls absent from a
    per-call mapping are denied).
    """
    if isinstance(answer, str) or (isinstance(answer, dict) and "decision" in answer):
        one = _one_decision(answer)
        return {cid: one for cid in call_ids}
    if not isinstance(answer, dict) or not answer or not set(answer) <= set(call_ids):
        raise UserInputError(f"not an approval decision: {answer!r}", hint=RESUME_HINT)
    return {cid: _one_decision(v) for cid, v in answer.items()}


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

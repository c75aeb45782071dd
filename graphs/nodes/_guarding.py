"""What every guard node does with a verdict: record it, and turn ``escalate`` into a question."""

from __future__ import annotations

from typing import Any

from langgraph.types import interrupt

from autan.guards.base import Stage, Verdict


def record(stage: Stage, verdict: Verdict) -> dict[str, Any]:
    """The verdict as kept in state (no text: it may hold what a rail redacted)."""
    return {
        "stage": stage,
        "action": verdict.action,
        "rail": verdict.rail,
        "reasons": list(verdict.reasons),
        "score": verdict.score,
    }


def settle(stage: Stage, verdict: Verdict) -> Verdict:
    """Ask a human about an ``escalate`` verdict (a LangGraph interrupt); others pass through.

    The resume value ``{"decision": "approve"}`` (or ``True``) lets the text through as
    allowed; anything else blocks it.
    """
    if verdict.action != "escalate":
        return verdict
    answer = interrupt(
        {
            "type": "guard",
            "stage": stage,
            "rail": verdict.rail,
            "reasons": list(verdict.reasons),
        }
    )
    approved = answer is True or (isinstance(answer, dict) and answer.get("decision") == "approve")
    if approved:
        return Verdict(allowed=True, action="allow", text=verdict.text, rail=verdict.rail)
    return Verdict(
        allowed=False,
        action="block",
        text=verdict.text,
        rail=verdict.rail,
        reasons=(*verdict.reasons, "denied by a human reviewer"),
        score=verdict.score,
    )


def refusal(stage: Stage, verdict: Verdict) -> str:
    """The safe explanation shown instead of blocked text."""
    why = "; ".join(verdict.reasons) or "policy"
    rail = verdict.rail or "guard"
    if stage in ("tool_output", "code"):  # read by the planner, not the user
        what = (
            "This tool result was withheld" if stage == "tool_output" else "This call was refused"
        )
        return f"{what}: the {rail} rail flagged it ({why}). Do not retry it; carry on without it."
    where = {"input": "your message", "output": "the answer"}
    return (
        f"I can't continue: {where.get(stage, 'this step')} was blocked by the "
        f"{verdict.rail or 'guard'} rail ({why})."
    )

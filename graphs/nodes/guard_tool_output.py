"""guard_tool_output: tool results pass the tool-output rails before the planner reads them.

Indirect prompt injection arrives here (fetched pages, retrieved passages), so every string in a
tool result is checked: all of them at once first (one pass of the rails per result, paragraphs
kept apart), then string by string only when something must be redacted in place. A block
withholds the whole result.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.runnables import RunnableConfig

from autan.graphs.context import AgentContext
from autan.graphs.nodes._guarding import record, refusal, settle
from autan.graphs.state import AgentState, Node, current_turn, tool_result
from autan.guards.base import GuardRunner, Verdict, combine
from autan.tools.base import fail

_MIN_CHECKED = 3  # strings shorter than this carry no instruction worth a rail's time
# Identifiers autan itself puts in tool results (citation keys are path#content-hash): a hash
# is not a secret, and redacting it would break citation numbering.
_IDENTIFIERS = frozenset({"key", "content_hash", "chunk_id"})


def guard_value(runner: GuardRunner, value: Any, ctx: dict[str, Any], found: list[Verdict]) -> Any:
    """Check every string inside ``value``; return it with redactions applied."""
    if isinstance(value, str):
        if len(value) < _MIN_CHECKED:
            return value
        verdict = runner.check(value, "tool_output", ctx)
        if verdict.action != "allow":
            found.append(verdict)
        return verdict.text
    if isinstance(value, dict):
        return {
            k: v if k in _IDENTIFIERS else guard_value(runner, v, ctx, found)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [guard_value(runner, v, ctx, found) for v in value]
    return value


def _strings(value: Any, out: list[str]) -> list[str]:
    if isinstance(value, str) and len(value) >= _MIN_CHECKED:
        out.append(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in _IDENTIFIERS:
                _strings(v, out)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out)
    return out


def guard_result(runner: GuardRunner, value: Any, ctx: dict[str, Any]) -> tuple[Any, list[Verdict]]:
    """A tool result with redactions applied, and the verdicts that were not ``allow``."""
    texts = _strings(value, [])
    if not texts:
        return value, []
    whole = runner.check("\n\n".join(texts), "tool_output", ctx)
    if whole.action == "allow":
        return value, []
    if whole.action != "redact":
        return value, [whole]
    found: list[Verdict] = []
    cleaned = guard_value(runner, value, ctx, found)
    return cleaned, found or [whole]


def make_guard_tool_output(ctx: AgentContext) -> Node:
    """Build the node for ``ctx``."""

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
            facts = {"run_id": run_id, "tool": m.name, "tool_calls": made}
            cleaned, found = guard_result(ctx.guards, raw, facts)
            verdict = settle("tool_output", combine(str(m.content), found))
            recorded.append(record("tool_output", verdict))
            if verdict.action == "block":
                cleaned = fail("SecurityViolation", refusal("tool_output", verdict))
            content = cleaned if isinstance(cleaned, str) else json.dumps(cleaned, default=str)
            guarded.append(m.model_copy(update={"content": content}))
        return {"messages": guarded, "verdicts": recorded}

    return guard_tool_output

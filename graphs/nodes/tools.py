"""tools: run the planner's pending tool calls, concurrently, after the guarded runner's checks.

Arguments pass the rails of their declared kind and the capability policy (``GuardedTools.
screen``); the raw results enter the thread's provenance ledger before any rail sees them.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig

from autan.graphs.context import AgentContext
from autan.graphs.nodes._guarding import settle
from autan.graphs.state import AgentState, Node, citations, current_turn, ledger
from autan.tools.base import ToolOutput, ToolResult, fail
from autan.tools.guarded import GuardedTools
from autan.tools.provenance import Provenance


@cache
def _pool() -> ThreadPoolExecutor:
    """One process-wide pool for concurrent tool calls (threads are not started per step)."""
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="autan-tool")


def run_calls(
    ctx: AgentContext, calls: Sequence[ToolCall], runner: GuardedTools | None = None
) -> list[ToolOutput]:
    """Run calls concurrently (a single call runs inline); typed results in call order."""
    runner = runner or GuardedTools(ctx.guards)

    def one(call: ToolCall) -> ToolOutput:
        return runner.run(ctx.tools.get(call["name"]), call["args"])

    if len(calls) == 1:
        return [one(calls[0])]
    # each call runs in a copy of this node's context, so its trace span nests under the node
    futures = [_pool().submit(contextvars.copy_context().run, one, c) for c in calls]
    return [f.result() for f in futures]


def pending_calls(messages: Sequence[BaseMessage]) -> list[ToolCall]:
    """Calls of the latest AI message that have no tool result yet (e.g. none denied)."""
    last_ai = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
    if last_ai is None:
        return []
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    return [c for c in last_ai.tool_calls if c["id"] not in answered]


def number_citations(result: ToolResult, known: Sequence[dict[str, Any]]) -> ToolResult:
    """Give each cited passage a turn-wide number; a passage seen before keeps its number."""
    if not result.get("citations"):
        return result
    by_key = {str(c.get("key", c["id"])): str(c["id"]) for c in known}
    next_id = len(by_key) + 1
    numbered = []
    for c in result["citations"]:
        key = str(c.get("key", c.get("id")))
        if key not in by_key:
            by_key[key] = str(next_id)
            next_id += 1
        numbered.append({**c, "id": by_key[key]})
    return {**result, "citations": numbered}


def make_tools_node(ctx: AgentContext) -> Node:
    """Build the node for ``ctx``: every check before any side effect, then the calls."""
    limit = ctx.settings.planner.max_tool_calls_per_turn
    runner = GuardedTools(ctx.guards)

    def screen_all(
        state: AgentState, calls: list[ToolCall], facts: dict[str, Any]
    ) -> tuple[dict[str, ToolResult], list[ToolCall], list[dict[str, Any]]]:
        book = ledger(state, ctx.instructions)
        refused: dict[str, ToolResult] = {}
        runnable: list[ToolCall] = []
        verdicts: list[dict[str, Any]] = []
        for index, call in enumerate(calls):
            if index >= limit:
                refused[call["id"] or ""] = fail(
                    "LimitExceeded", f"more than {limit} tool calls in one step; call fewer"
                )
                continue
            tool = ctx.tools.get(call["name"])
            screened = runner.screen(tool, call["args"], book, ask=settle, facts=facts)
            verdicts += screened.verdicts
            if screened.refused is not None:
                refused[call["id"] or ""] = screened.refused
            else:
                runnable.append(ToolCall(name=call["name"], args=screened.args, id=call["id"]))
        return refused, runnable, verdicts

    def tools(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        messages = state["messages"]
        calls = pending_calls(messages)
        facts = {"run_id": config.get("configurable", {}).get("thread_id")}
        results, runnable, verdicts = screen_all(state, calls, facts)
        outs = run_calls(ctx, runnable, runner) if runnable else []
        results.update({(c["id"] or ""): o.to_dict() for c, o in zip(runnable, outs, strict=True)})
        # the ledger before this step's results (they vouch for nothing): what the user's words
        # designate or delegate to a result is read from it, and only the capability policy asks
        book = ledger(state, ctx.instructions) if runner.labels else Provenance()
        seen = [
            runner.entry(ctx.tools.get(c["name"]), c["args"], o, book)
            for c, o in zip(runnable, outs, strict=True)
        ]
        known = citations(current_turn(messages))
        replies: list[ToolMessage] = []
        for call in calls:
            result = number_citations(results[call["id"] or ""], known)
            known = known + list(result.get("citations") or [])
            replies.append(
                ToolMessage(
                    content=json.dumps(result, ensure_ascii=False, default=str),
                    tool_call_id=call["id"] or "",
                    name=call["name"],
                    status="success" if result.get("ok") else "error",
                )
            )
        return {"messages": replies, "verdicts": verdicts, "provenance": seen}

    return tools

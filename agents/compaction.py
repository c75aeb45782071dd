"""Compaction: when a conversation outgrows its budget, older turns become one summary message.

Only whole turns (a user message and everything after it up to the next one) are summarised,
so every tool call stays paired with its result in what is kept. The summary replaces any
earlier one; if the model cannot summarise, an extractive digest is used instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
)
from langgraph.graph.message import REMOVE_ALL_MESSAGES

from autan.agents.planner import approx_tokens, newest_turns, split_turns

SUMMARY_NAME = "conversation_summary"
SUMMARY_PREFIX = "Summary of the earlier conversation:\n"
INSTRUCTIONS = (
    "Summarise the conversation below for your own later use. Keep facts the user stated, "
    "decisions, tool results that were used, and open questions. Plain sentences, at most "
    "200 words, no preamble."
)


def is_summary(message: BaseMessage) -> bool:
    """True for the message that holds the summary of compacted turns."""
    return message.type == "system" and message.name == SUMMARY_NAME


def _line(m: BaseMessage, limit: int = 400) -> str:
    text = str(m.content)[:limit]
    if isinstance(m, AIMessage) and m.tool_calls:
        calls = "; ".join(f"{c['name']}({json.dumps(c['args'])[:200]})" for c in m.tool_calls)
        return f"assistant called {calls}" + (f" saying: {text}" if text else "")
    role = {"human": "user", "ai": "assistant", "tool": f"tool {m.name or ''}".strip()}
    return f"{role.get(m.type, m.type)}: {text}"


def transcript(previous: str, turns: Sequence[Sequence[BaseMessage]]) -> str:
    """The text a summariser reads: the earlier summary, then each older turn."""
    lines = [f"(earlier summary) {previous}"] if previous else []
    lines += [_line(m) for turn in turns for m in turn]
    return "\n".join(lines)


def summarise(model: BaseChatModel, text: str) -> str:
    """The model's summary of ``text``, or an extractive digest if it gives none."""
    reply: BaseMessage | None = None
    try:
        reply = model.invoke(
            [SystemMessage(content=INSTRUCTIONS), HumanMessage(content=text)],
            {"callbacks": [], "tags": ["nostream"]},
        )
        summary = str(reply.content).strip()
    except Exception:  # noqa: BLE001 - compaction must never break a turn
        summary = ""
    if not summary or isinstance(reply, AIMessage) and reply.tool_calls:
        summary = " | ".join(line[:160] for line in text.splitlines()[-24:])
    return summary


def split(
    messages: Sequence[BaseMessage], keep_tokens: int
) -> tuple[str, list[list[BaseMessage]], list[BaseMessage]]:
    """(earlier summary, older turns to summarise, messages to keep whole)."""
    previous = next((str(m.content) for m in messages if is_summary(m)), "")
    previous = previous.removeprefix(SUMMARY_PREFIX)
    turns = split_turns([m for m in messages if m.type != "system"])
    cut = len(turns) - newest_turns(turns, keep_tokens)
    return previous, turns[:cut], [m for turn in turns[cut:] for m in turn]


def compact_history(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    budget: int,
    threshold: float = 0.75,
    count: Callable[[Sequence[BaseMessage]], int] = approx_tokens,
) -> tuple[list[Any], list[BaseMessage]]:
    """(state update, new history): summarise older turns once past ``threshold`` of budget.

    The update replaces the whole history with the summary and the kept turns; it is empty
    when nothing needs compacting.
    """
    if count(messages) <= budget * threshold:
        return [], list(messages)
    previous, older, kept = split(messages, int(budget * threshold / 2))
    if not older:
        return [], list(messages)
    text = summarise(model, transcript(previous, older))
    summary = SystemMessage(content=SUMMARY_PREFIX + text, name=SUMMARY_NAME)
    others = [m for m in messages if m.type == "system" and not is_summary(m)]
    history: list[BaseMessage] = [*others, summary, *kept]
    return [RemoveMessage(id=REMOVE_ALL_MESSAGES), *history], history

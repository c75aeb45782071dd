"""The one state type of every autan graph, and facts derived from it."""

from __future__ import annotations

import json
import operator
from collections.abc import Sequence
from typing import Annotated, Any, Protocol, TypedDict

from langchain_core.messages import AnyMessage, BaseMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.message import add_messages

from autan.tools.provenance import Provenance
from autan.tools.spec import Trust


class AgentState(TypedDict, total=False):
    """Messages are the history; the rest is what guards and the CLI report about a turn.

    ``provenance`` holds every raw tool result with its declared trust (``{"trust", "origin",
    "text"}``): the capability policy traces tool arguments through it, before any rail
    redacted or withheld what the planner saw.
    """

    messages: Annotated[list[AnyMessage], add_messages]
    verdicts: Annotated[list[dict[str, Any]], operator.add]
    provenance: Annotated[list[dict[str, Any]], operator.add]
    blocked: bool
    answer: str
    sources: list[dict[str, Any]]


class Node(Protocol):
    """A LangGraph node of the agent graph: ``(state, config) -> update``."""

    def __call__(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Compute the node's state update."""
        ...


def current_turn(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """Messages from the latest user message on."""
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].type == "human":
            return list(messages[i:])
    return list(messages)


def steps_taken(messages: Sequence[BaseMessage]) -> int:
    """Planner steps in the current turn: AI messages since the latest user message."""
    return sum(1 for m in current_turn(messages) if m.type == "ai")


def tool_result(message: BaseMessage) -> dict[str, Any] | None:
    """The JSON result a tool message carries, if it is one."""
    try:
        value = json.loads(str(message.content))
    except (json.JSONDecodeError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def citations(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Passages retrieved in the current turn, from tool results that carry ``citations``."""
    found: dict[str, dict[str, Any]] = {}
    for m in current_turn(messages):
        # a cheap substring test first: most tool results carry no citations
        cites = m.type == "tool" and '"citations"' in str(m.content)
        result = tool_result(m) if cites else None
        for c in (result or {}).get("citations") or ():
            if isinstance(c, dict) and "id" in c:
                found[str(c["id"])] = c
    return list(found.values())


def ledger(state: AgentState, instructions: str | None = None) -> Provenance:
    """The provenance ledger of a thread: the user's messages, then every raw tool result."""
    book = Provenance()
    if instructions:
        book.add(Trust.TRUSTED, "instructions", instructions)
    for m in state.get("messages") or ():
        if m.type == "human":
            book.add_user(str(m.content))
    for p in state.get("provenance") or ():
        book.restore(p)
    return book

"""``remember`` and ``recall``: the planner keeps and looks up facts about the user.

The tools of one registry share the ``LongTermMemory`` its ``ToolResources`` opens on first use
(listing tools never opens the vector store); closing the registry releases it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from langchain_core.tools import BaseTool

from autan.config import Settings
from autan.errors import AutanError
from autan.tools.base import ToolResult, make_tool, ok
from autan.tools.resources import ToolResources
from autan.tools.spec import Effect, Trust, declare


def make_remember(settings: Settings, resources: ToolResources | None = None) -> BaseTool:
    """The remember tool for the configured user (memory from ``resources``, or its own)."""
    held = resources or ToolResources(settings)

    def remember(text: str, kind: Literal["fact", "preference"] = "fact") -> ToolResult:
        """Keep a fact about the user or a preference they stated, for later conversations.

        Args:
            text: One short, self-contained statement, e.g. "The user prefers metric units".
            kind: "fact" or "preference".
        """
        memory = held.memory().remember(text, kind)
        return ok(memory=memory.as_dict(), duplicate=memory.duplicate)

    return declare(
        make_tool(remember),
        effect=Effect.LOCAL_WRITE,
        output_trust=Trust.TRUSTED,
        args={"text": "text"},
    )


def make_recall(settings: Settings, resources: ToolResources | None = None) -> BaseTool:
    """The recall tool for the configured user (memory from ``resources``, or its own)."""
    held = resources or ToolResources(settings)

    def recall(query: str, k: int = 5) -> ToolResult:
        """Look up what you remember about the user that is relevant to a query.

        Args:
            query: What you want to remember, in plain words.
            k: How many memories to return (1-20).
        """
        found = held.memory().recall(query, max(1, min(int(k), 20)))
        return ok(query=query, memories=[{**m.as_dict(), "score": m.score} for m in found])

    return declare(make_tool(recall), effect=Effect.READ_ONLY, output_trust=Trust.UNTRUSTED)


def _has_memories(settings: Settings) -> bool:
    """Whether the user has any memory, without loading an embedding model."""
    from autan.memory.long_term import collection_for
    from autan.memory.vectorstore import open_store

    store = open_store(settings)
    try:
        name = collection_for(settings.memory.user)
        return name in store.collections() and store.count(name) > 0
    finally:
        store.close()


def auto_recall(
    settings: Settings, resources: ToolResources | None = None
) -> Callable[[str], list[str]]:
    """The ``Agent(recall=...)`` hook: relevant memories, computed once per question.

    Pass the agent's ``ToolResources`` so the hook and the memory tools share one store.
    Nothing is loaded while the user has no memories, and a store that cannot open (a missing
    extra) recalls nothing rather than failing the turn.
    """
    held = resources or ToolResources(settings)
    last: dict[str, list[str]] = {}
    k = settings.memory.recall_k

    def recall(question: str) -> list[str]:
        if question not in last:
            last.clear()
            try:
                if held.memory_open or _has_memories(settings):
                    last[question] = held.memory().recaller(k)(question)
                else:
                    last[question] = []
            except AutanError:
                last[question] = []
        return last[question]

    return recall

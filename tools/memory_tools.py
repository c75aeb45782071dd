"""``remember`` and ``recall``: the planner keeps and looks up facts about the user.

Both tools of one process share one ``LongTermMemory`` per (data dir, user, store, embedder),
opened on first use, so listing tools never opens the vector store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal

from langchain_core.tools import BaseTool

from autan.config import Settings
from autan.errors import AutanError
from autan.memory.long_term import LongTermMemory
from autan.tools.base import ToolResult, make_tool, ok
from autan.tools.spec import Effect, Trust, declare

_OPEN: dict[tuple[str, ...], LongTermMemory] = {}
_LOCK = threading.Lock()


def _memory_key(settings: Settings) -> tuple[str, ...]:
    return (
        str(settings.data_dir),
        settings.memory.user,
        settings.retrieval.backend,
        str(settings.retrieval.qdrant_url),
        settings.memory.embedder or settings.retrieval.embedder,
    )


def shared_memory(settings: Settings) -> LongTermMemory:
    """The process's one ``LongTermMemory`` for these settings."""
    key = _memory_key(settings)
    with _LOCK:
        if key not in _OPEN:
            _OPEN[key] = LongTermMemory.from_settings(settings)
        return _OPEN[key]


def make_remember(settings: Settings) -> BaseTool:
    """The remember tool for the configured user."""

    def remember(text: str, kind: Literal["fact", "preference"] = "fact") -> ToolResult:
        """Keep a fact about the user or a preference they stated, for later conversations.

        Args:
            text: One short, self-contained statement, e.g. "The user prefers metric units".
            kind: "fact" or "preference".
        """
        memory = shared_memory(settings).remember(text, kind)
        return ok(memory=memory.as_dict(), duplicate=memory.duplicate)

    return declare(
        make_tool(remember),
        effect=Effect.LOCAL_WRITE,
        output_trust=Trust.TRUSTED,
        args={"text": "text"},
    )


def make_recall(settings: Settings) -> BaseTool:
    """The recall tool for the configured user."""

    def recall(query: str, k: int = 5) -> ToolResult:
        """Look up what you remember about the user that is relevant to a query.

        Args:
            query: What you want to remember, in plain words.
            k: How many memories to return (1-20).
        """
        found = shared_memory(settings).recall(query, max(1, min(int(k), 20)))
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


def auto_recall(settings: Settings) -> Callable[[str], list[str]]:
    """The ``Agent(recall=...)`` hook: relevant memories, computed once per question.

    Nothing is loaded while the user has no memories, and a store that cannot open (a missing
    extra) recalls nothing rather than failing the turn.
    """
    last: dict[str, list[str]] = {}
    k = settings.memory.recall_k

    def recall(question: str) -> list[str]:
        if question not in last:
            last.clear()
            try:
                opened = _memory_key(settings) in _OPEN
                if opened or _has_memories(settings):
                    last[question] = shared_memory(settings).recaller(k)(question)
                else:
                    last[question] = []
            except AutanError:
                last[question] = []
        return last[question]

    return recall

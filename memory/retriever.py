"""Query-side retrieval shared by the ``search_docs`` tool, ``autan search`` and the evaluation.

Opens the store and embedder once (lazily, so listing tools loads nothing) and turns hits into
citations: ``{key, id, source, title, heading_path, start, end, text, score}``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from autan.config import Settings
from autan.errors import UserInputError
from autan.memory.embeddings import Embedder, embedder_for, model_cache
from autan.memory.vectorstore import Filter, Hit, SearchMode, VectorStore, open_store

FILTER_KEYS = ("source", "path_prefix", "tags", "after", "before")


def parse_date(value: str, what: str) -> datetime:
    """An ISO-8601 date or date-time (UTC when no zone), or ``UserInputError``."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserInputError(f"{what} must be an ISO date like 2024-05-01, not {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def make_filter(values: dict[str, Any] | None) -> Filter | None:
    """A ``Filter`` from a plain mapping (tool arguments, CLI ``--filter key=value`` pairs)."""
    if not values:
        return None
    unknown = set(values) - set(FILTER_KEYS)
    if unknown:
        raise UserInputError(
            f"unknown filter {sorted(unknown)[0]!r}", hint=f"use one of {', '.join(FILTER_KEYS)}"
        )
    tags = values.get("tags") or ()
    return Filter(
        source=values.get("source") or None,
        path_prefix=values.get("path_prefix") or None,
        tags=(tags,) if isinstance(tags, str) else tuple(str(t) for t in tags),
        after=parse_date(values["after"], "after") if values.get("after") else None,
        before=parse_date(values["before"], "before") if values.get("before") else None,
    )


def citation(hit: Hit, number: int) -> dict[str, Any]:
    """One cited passage; ``key`` is stable across calls, ``id`` numbers it within a result."""
    p = hit.payload
    return {
        "key": hit.id,
        "id": str(number),
        "source": p.get("source", ""),
        "title": p.get("title", ""),
        "heading_path": list(p.get("heading_path") or []),
        "start": p.get("start"),
        "end": p.get("end"),
        "text": hit.text,
        "score": round(hit.score, 6),
    }


class Retriever:
    """Embeds queries and searches one collection of the configured store."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: VectorStore | None = None,
        embedder: Embedder | None = None,
        collection: str | None = None,
    ) -> None:
        self.settings = settings
        self.collection = collection or settings.retrieval.collection
        self._store, self._embedder = store, embedder
        self._lock = threading.Lock()

    @property
    def store(self) -> VectorStore:
        """The store, opened on first use."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self.settings)
            return self._store

    @property
    def embedder(self) -> Embedder:
        """The configured embedder; plain ``minilm`` follows the collection's recorded runtime."""
        store = self.store
        with self._lock:
            if self._embedder is None:
                recorded = store.embedder_of(self.collection)
                spec = self.settings.retrieval.embedder
                self._embedder = embedder_for(spec, recorded, model_cache(self.settings))
            return self._embedder

    def search(
        self, query: str, k: int = 5, flt: Filter | None = None, mode: SearchMode = "hybrid"
    ) -> list[Hit]:
        """Top-``k`` passages for ``query``; ``UserInputError`` for an empty query or bad k."""
        if not query or not query.strip():
            raise UserInputError("the query is empty", hint="give a question or some keywords")
        if not 1 <= k <= 100:
            raise UserInputError(f"k must be between 1 and 100, not {k}")
        store = self.store
        store.info(self.collection)  # a missing collection fails before any model loads
        embedder = self.embedder
        store.ensure_collection(self.collection, embedder.dim, embedder.name)  # same embedder?
        vector = embedder.embed_query(query) if mode != "sparse" else None
        return store.search(self.collection, vector=vector, text=query, k=k, filter=flt, mode=mode)

    def cite(self, query: str, k: int = 5, flt: Filter | None = None) -> list[dict[str, Any]]:
        """Hybrid search results as numbered citations."""
        return [citation(h, i) for i, h in enumerate(self.search(query, k, flt), 1)]

    def close(self) -> None:
        """Release the store."""
        if self._store is not None:
            self._store.close()

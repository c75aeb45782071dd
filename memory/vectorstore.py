"""The vector-store seam: hybrid (dense + BM25 sparse) search with payload filters.

Backends live beside this module; every backend passes tests/contracts/test_vectorstore.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

SearchMode = Literal["hybrid", "dense", "sparse"]


@dataclass(frozen=True)
class Point:
    """One stored chunk: its id, dense vector, text (indexed for BM25) and payload."""

    id: str
    vector: Sequence[float]
    text: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """One search result."""

    id: str
    score: float
    text: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Filter:
    """Payload conditions, all of which must hold."""

    source: str | None = None
    path_prefix: str | None = None
    tags: tuple[str, ...] = ()
    after: datetime | None = None
    before: datetime | None = None


@runtime_checkable
class VectorStore(Protocol):
    """A collection-oriented store of points with hybrid search."""

    def ensure_collection(self, name: str, dim: int) -> None:
        """Create the collection if needed; ``ConfigError`` if it exists with another dim."""
        ...

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """Insert or replace points (batched by the backend)."""
        ...

    def search(
        self,
        collection: str,
        *,
        vector: Sequence[float] | None,
        text: str | None,
        k: int = 10,
        filter: Filter | None = None,
        mode: SearchMode = "hybrid",
    ) -> list[Hit]:
        """Top-k hits; hybrid fuses dense and BM25 rankings with reciprocal-rank fusion."""
        ...

    def delete(
        self, collection: str, *, source: str | None = None, ids: Sequence[str] = ()
    ) -> int:
        """Delete points by source or id; returns how many were removed."""
        ...

    def count(self, collection: str, filter: Filter | None = None) -> int:
        """Number of points (matching ``filter``)."""
        ...

    def collections(self) -> list[str]:
        """Collection names."""
        ...

    def drop(self, collection: str) -> None:
        """Delete a collection and everything in it."""
        ...

    def close(self) -> None:
        """Flush and release files."""
        ...

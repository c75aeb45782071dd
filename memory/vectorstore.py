"""The vector-store seam: hybrid (dense + BM25 sparse) search with payload filters.

Backends live beside this module (store_edge.py: the embedded default on qdrant-edge;
store_qdrant.py: qdrant-client for ``:memory:``, a path or a server URL). Every backend passes
tests/contracts/test_vectorstore.py. ``open_store(settings)`` picks one from the settings.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from autan.errors import ConfigError, UserInputError

if TYPE_CHECKING:
    from autan.config import Settings

SearchMode = Literal["hybrid", "dense", "sparse"]

# Payload keys the store itself writes next to the caller's payload.
ID_KEY, TEXT_KEY, DIRS_KEY = "_id", "_text", "_dirs"
RESERVED = frozenset({ID_KEY, TEXT_KEY, DIRS_KEY})
DENSE, SPARSE = "dense", "bm25"
RRF_K = 60
UPSERT_BATCH = 256
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ID_NAMESPACE = uuid.UUID("6f1c6a52-3b0e-4d3e-9a55-9d1f6f3c1a7e")


@dataclass(frozen=True)
class Point:
    """One stored chunk: its id, dense vector, text and payload.

    ``index_text`` (defaults to ``text``) is what BM25 indexes, e.g. the text with its headings.
    """

    id: str
    vector: Sequence[float]
    text: str
    payload: dict[str, Any] = field(default_factory=dict)
    index_text: str | None = None


@dataclass(frozen=True)
class Hit:
    """One search result."""

    id: str
    score: float
    text: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Filter:
    """Payload conditions, all of which must hold.

    ``source`` is an exact source; ``path_prefix`` a directory (or file) at path-component
    boundaries; every tag in ``tags`` must be present; ``after`` is inclusive, ``before``
    exclusive, both compared with the payload's ISO-8601 ``date``.
    """

    source: str | None = None
    path_prefix: str | None = None
    tags: tuple[str, ...] = ()
    after: datetime | None = None
    before: datetime | None = None


@dataclass(frozen=True)
class CollectionInfo:
    """What ``collections list`` shows."""

    name: str
    dim: int
    model: str | None
    count: int


@runtime_checkable
class VectorStore(Protocol):
    """A collection-oriented store of points with hybrid search."""

    def ensure_collection(self, name: str, dim: int, model: str | None = None) -> None:
        """Create the collection if needed; ``ConfigError`` if it exists with another dim/model."""
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

    def delete(self, collection: str, *, source: str | None = None, ids: Sequence[str] = ()) -> int:
        """Delete points by source or id; returns how many were removed."""
        ...

    def count(self, collection: str, filter: Filter | None = None) -> int:
        """Number of points (matching ``filter``)."""
        ...

    def scan(
        self, collection: str, filter: Filter | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every matching point's id and payload, without vectors (for incremental indexing)."""
        ...

    def info(self, collection: str) -> CollectionInfo:
        """Dimension, embedding model and size of one collection."""
        ...

    def embedder_of(self, collection: str) -> str | None:
        """The embedder identity a collection records; None if it does not exist (cheap)."""
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


def check_name(name: str) -> str:
    """A collection name that is safe as a directory name, or ``UserInputError``."""
    if not _NAME.match(name):
        raise UserInputError(
            f"bad collection name {name!r}",
            hint="use 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit",
        )
    return name


def check_compatible(
    name: str, have_dim: int, have_model: str | None, dim: int, model: str | None
) -> None:
    """Refuse to mix embeddings of different dimension or model in one collection."""
    if have_dim != dim:
        raise ConfigError(
            f"collection {name!r} holds {have_dim}-d vectors but the embedder makes {dim}-d ones",
            hint="use the embedder the collection was built with, or a new --collection",
        )
    if model and have_model and model != have_model:
        from autan.memory.embeddings import spec_for

        spec = spec_for(have_model) or have_model
        raise ConfigError(
            f"collection {name!r} was built with embedder {have_model!r}, not {model!r} "
            "(another model, runtime or precision makes other vectors; they are never mixed)",
            hint=f"set retrieval.embedder = {spec!r} (AUTAN_RETRIEVAL__EMBEDDER), "
            "or ingest into a new --collection",
        )


def check_vector(name: str, dim: int, vector: Sequence[float]) -> None:
    """A vector of the wrong length is a setup error, never a silent mix."""
    if len(vector) != dim:
        raise ConfigError(
            f"vector of length {len(vector)} for collection {name!r} of dimension {dim}",
            hint="use the embedder the collection was built with",
        )


def point_uuid(point_id: str) -> str:
    """Qdrant ids are UUIDs; ours are any string, mapped stably."""
    return str(uuid.uuid5(_ID_NAMESPACE, point_id))


def ancestors(source: str) -> list[str]:
    """``a/b/c.md`` -> ``["a", "a/b", "a/b/c.md"]`` (and a leading ``/`` kept), for prefixes."""
    parts = source.split("/")
    out = []
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        if prefix:
            out.append(prefix)
    return out


def stored_payload(point: Point) -> dict[str, Any]:
    """The caller's payload plus the id, text and path prefixes the store needs."""
    payload = {k: v for k, v in point.payload.items() if k not in RESERVED}
    payload[ID_KEY] = point.id
    payload[TEXT_KEY] = point.text
    source = payload.get("source")
    if isinstance(source, str):
        payload[DIRS_KEY] = ancestors(source)
    return payload


def to_hit(score: float, payload: dict[str, Any] | None) -> Hit:
    """A ``Hit`` from a stored payload."""
    stored = dict(payload or {})
    user = {k: v for k, v in stored.items() if k not in RESERVED}
    return Hit(
        id=str(stored.get(ID_KEY)),
        score=float(score),
        text=str(stored.get(TEXT_KEY, "")),
        payload=user,
    )


def ranked(points: Iterable[Any], k: int) -> list[Hit]:
    """The ``k`` best hits, ties broken by id (the engine's order among equals is not stable)."""
    return _best([to_hit(p.score, p.payload) for p in points], k)


def _best(hits: Iterable[Hit], k: int) -> list[Hit]:
    """The ``k`` highest scores, equal scores in id order."""
    return sorted(hits, key=lambda h: (-h.score, h.id))[:k]


def fused(rankings: Sequence[list[Hit]], k: int) -> list[Hit]:
    """Reciprocal-rank fusion of ``ranked`` lists (one list is returned as it is).

    Fused here rather than in the engine, whose ranks among equal scores change from one
    process to the next; duplicates and first-in-one-ranking-only hits tie often.
    """
    if len(rankings) == 1:
        return rankings[0][:k]
    scores: dict[str, float] = {}
    hits: dict[str, Hit] = {}
    for ranking in rankings:
        for position, hit in enumerate(ranking):  # Qdrant's formula: 1 / (k + 0-based position)
            scores[hit.id] = scores.get(hit.id, 0.0) + 1.0 / (RRF_K + position)
            hits.setdefault(hit.id, hit)
    return _best((replace(hits[i], score=score) for i, score in scores.items()), k)


def fusion_depth(k: int) -> int:
    """How many hits each ranking contributes before fusion (and before ties are cut)."""
    return max(50, 4 * k)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


Condition = tuple[Literal["match", "range"], str, Any]


def conditions(flt: Filter | None) -> list[Condition]:
    """A backend-neutral list of must-conditions for ``flt``."""
    if flt is None:
        return []
    out: list[Condition] = []
    if flt.source:
        out.append(("match", "source", flt.source))
    if flt.path_prefix:
        prefix = flt.path_prefix.rstrip("/") or "/"
        out.append(("match", DIRS_KEY, prefix))
    out += [("match", "tags", tag) for tag in flt.tags]
    if flt.after or flt.before:
        bounds = {
            "gte": _iso(flt.after) if flt.after else None,
            "lt": _iso(flt.before) if flt.before else None,
        }
        out.append(("range", "date", bounds))
    return out


def search_plan(
    vector: Sequence[float] | None, text: str | None, mode: SearchMode
) -> tuple[bool, bool]:
    """Which rankings a search uses: (dense, sparse); ``UserInputError`` when it has none."""
    use_dense = vector is not None and mode in ("hybrid", "dense")
    use_sparse = bool(text and text.strip()) and mode in ("hybrid", "sparse")
    if not (use_dense or use_sparse):
        raise UserInputError(f"a {mode} search needs a query", hint="give a non-empty query")
    return use_dense, use_sparse


def open_store(settings: Settings, path: Path | None = None) -> VectorStore:
    """The store the settings name: embedded under ``data_dir/vectors`` or qdrant-client."""
    retrieval = settings.retrieval
    if retrieval.backend == "qdrant":
        from autan.memory.store_qdrant import QdrantStore

        if path is None and retrieval.qdrant_url:
            return QdrantStore(url=retrieval.qdrant_url, api_key=retrieval.qdrant_api_key)
        location = path or retrieval.qdrant_path or settings.data_dir / "qdrant"
        return QdrantStore(path=location, lock_timeout_s=retrieval.lock_timeout_s)
    from autan.memory.store_edge import EdgeStore

    return EdgeStore(path or settings.data_dir / "vectors", lock_timeout_s=retrieval.lock_timeout_s)


__all__ = [
    "CollectionInfo",
    "Filter",
    "Hit",
    "Point",
    "SearchMode",
    "VectorStore",
    "open_store",
    "fused",
    "fusion_depth",
    "ranked",
]

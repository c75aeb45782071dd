"""The embedded default store: one qdrant-edge shard per collection, in a directory, no server.

Layout: ``ROOT/<collection>/collection.json`` (dim, model) and ``ROOT/<collection>/shard/``.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from autan.errors import BackendError, ConfigError, NotFoundError, missing_extra
from autan.memory import sparse, store_lock
from autan.memory.vectorstore import (
    DENSE,
    RRF_K,
    SPARSE,
    UPSERT_BATCH,
    CollectionInfo,
    Filter,
    Hit,
    Point,
    SearchMode,
    check_compatible,
    check_name,
    check_vector,
    conditions,
    point_uuid,
    search_plan,
    stored_payload,
    to_hit,
)

try:
    import qdrant_edge as qe
except ImportError:  # pragma: no cover - part of the retrieval extra
    qe = None  # type: ignore[assignment]

META = "collection.json"
INDEXED = {"source": "Keyword", "_dirs": "Keyword", "tags": "Keyword", "date": "Datetime"}


def _edge_filter(flt: Filter | None) -> Any:
    conds = conditions(flt)
    if not conds:
        return None
    must: list[Any] = []
    for kind, key, value in conds:
        if kind == "match":
            must.append(qe.FieldCondition(key=key, match=qe.MatchValue(value)))
        else:
            must.append(qe.FieldCondition(key=key, range=qe.RangeDateTime(**value)))
    return qe.Filter(must=must)


class EdgeStore:
    """Collections as qdrant-edge shards under one directory."""

    def __init__(self, root: Path) -> None:
        if qe is None:
            raise missing_extra("retrieval", "qdrant-edge-py")
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"vector store path {self.root} is not a directory")
        self._shards: dict[str, Any] = {}
        self._meta: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()

    def _dir(self, name: str) -> Path:
        return self.root / check_name(name)

    def _read_meta(self, name: str) -> dict[str, Any] | None:
        if name in self._meta:
            return self._meta[name]
        path = self._dir(name) / META
        if not path.exists():
            return None
        try:
            meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            int(meta["dim"])
        except (OSError, ValueError, KeyError, TypeError):
            raise ConfigError(
                f"vector store collection {name!r} at {path.parent} is corrupt",
                hint=f"drop it with 'autan collections drop {name}' and ingest again",
            ) from None
        self._meta[name] = meta
        return meta

    def _shard(self, name: str) -> Any:
        with self._lock:
            if name in self._shards:
                return self._shards[name]
            if self._read_meta(name) is None:
                raise NotFoundError(
                    f"no collection {name!r}",
                    hint="run 'autan ingest PATH' or 'autan collections list'",
                )
            directory = self._dir(name)
            try:
                shard = store_lock.load_waiting(
                    lambda: qe.EdgeShard.load(str(directory / "shard")), directory, name
                )
            except BackendError:
                raise
            except Exception as exc:  # noqa: BLE001 - the engine raises plain errors
                raise ConfigError(
                    f"vector store collection {name!r} is corrupt: {exc}",
                    hint=f"drop it with 'autan collections drop {name}' and ingest again",
                ) from None
            store_lock.mark(directory)
            self._shards[name] = shard
            return shard

    def ensure_collection(self, name: str, dim: int, model: str | None = None) -> None:
        """Create the collection if needed; ``ConfigError`` if it exists with another dim/model."""
        with self._lock:
            meta = self._read_meta(name)
            if meta is not None:
                check_compatible(name, int(meta["dim"]), meta.get("model"), dim, model)
                self._shard(name)
                return
            self._create(name, dim, model)

    def _create(self, name: str, dim: int, model: str | None) -> None:
        directory = self._dir(name)
        if directory.exists() and any(directory.iterdir()):
            raise ConfigError(
                f"vector store collection {name!r} at {directory} is corrupt (no {META})",
                hint=f"drop it with 'autan collections drop {name}' and ingest again",
            )
        config = qe.EdgeConfig(
            vectors={DENSE: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)},
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
        )
        shard = qe.EdgeShard.create(str(directory / "shard"), config)
        for key, kind in INDEXED.items():
            schema = getattr(qe.PayloadSchemaType, kind)
            shard.update(qe.UpdateOperation.create_field_index(key, schema))
        shard.flush()
        meta = {"dim": dim, "model": model, "format": 1}
        (directory / META).write_text(json.dumps(meta), encoding="utf-8")
        self._meta[name] = meta
        store_lock.mark(directory)
        self._shards[name] = shard

    def _dim(self, name: str) -> int:
        meta = self._read_meta(name)
        if meta is None:
            raise NotFoundError(f"no collection {name!r}")
        return int(meta["dim"])

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """Insert or replace points, in batches."""
        shard = self._shard(collection)
        dim = self._dim(collection)
        for start in range(0, len(points), UPSERT_BATCH):
            batch = []
            for p in points[start : start + UPSERT_BATCH]:
                check_vector(collection, dim, p.vector)
                ids, values = sparse.document_vector(p.index_text or p.text)
                vectors: dict[str, Any] = {
                    DENSE: list(p.vector),
                    SPARSE: qe.SparseVector(ids, values),
                }
                batch.append(qe.Point(point_uuid(p.id), vectors, stored_payload(p)))
            self._apply(shard, qe.UpdateOperation.upsert_points(batch))
        self._flush(shard)

    def _apply(self, shard: Any, op: Any) -> None:
        try:
            shard.update(op)
        except Exception as exc:  # noqa: BLE001 - map the engine's errors at the boundary
            raise BackendError(f"embedded vector store failed: {exc}") from None

    def _flush(self, shard: Any) -> None:
        try:
            shard.flush()
        except Exception as exc:  # noqa: BLE001
            raise BackendError(f"embedded vector store could not flush: {exc}") from None

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
        shard = self._shard(collection)
        use_dense, use_sparse = search_plan(vector, text, mode)
        flt = _edge_filter(filter)
        queries = []
        if use_dense and vector is not None:
            check_vector(collection, self._dim(collection), vector)
            queries.append(qe.Query.Nearest(list(vector), using=DENSE))
        if use_sparse and text:
            ids, values = sparse.query_vector(text)
            if ids:
                queries.append(qe.Query.Nearest(qe.SparseVector(ids, values), using=SPARSE))
        if not queries:
            return []
        if len(queries) == 1:
            request = qe.QueryRequest(limit=k, query=queries[0], filter=flt, with_payload=True)
        else:
            depth = max(50, 4 * k)
            prefetches = [qe.Prefetch(limit=depth, query=q, filter=flt) for q in queries]
            request = qe.QueryRequest(
                limit=k,
                prefetches=prefetches,
                query=qe.Fusion.Rrf(k=RRF_K),  # type: ignore[arg-type]
                with_payload=True,
            )
        return [to_hit(p.score, p.payload) for p in shard.query(request)]

    def count(self, collection: str, filter: Filter | None = None) -> int:
        """Number of points (matching ``filter``)."""
        shard = self._shard(collection)
        return int(shard.count(qe.CountRequest(exact=True, filter=_edge_filter(filter))))

    def scan(
        self, collection: str, filter: Filter | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every matching point's id and payload, without vectors."""
        shard = self._shard(collection)
        flt = _edge_filter(filter)
        offset: Any = None
        while True:
            records, offset = shard.scroll(
                qe.ScrollRequest(offset=offset, limit=1024, filter=flt, with_payload=True)
            )
            for r in records:
                hit = to_hit(0.0, r.payload)
                yield hit.id, hit.payload
            if offset is None:
                return

    def delete(self, collection: str, *, source: str | None = None, ids: Sequence[str] = ()) -> int:
        """Delete points by source and/or id; returns how many were removed."""
        shard = self._shard(collection)
        removed = 0
        if source is not None:
            flt = _edge_filter(Filter(source=source))
            removed += int(shard.count(qe.CountRequest(exact=True, filter=flt)))
            self._apply(shard, qe.UpdateOperation.delete_points_by_filter(flt))
        if ids:
            uuids: list[Any] = [point_uuid(i) for i in ids]
            removed += len(shard.retrieve(uuids, with_payload=False, with_vector=False))
            self._apply(shard, qe.UpdateOperation.delete_points(uuids))
        self._flush(shard)
        return removed

    def info(self, collection: str) -> CollectionInfo:
        """Dimension, embedding model and size of one collection."""
        self._shard(collection)
        meta = self._read_meta(collection) or {}
        return CollectionInfo(
            collection, int(meta["dim"]), meta.get("model"), self.count(collection)
        )

    def collections(self) -> list[str]:
        """Collection names (directories holding collection metadata)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / META).is_file())

    def drop(self, collection: str) -> None:
        """Delete a collection and everything in it."""
        directory = self._dir(collection)
        with self._lock:
            if not (directory / META).exists() and not directory.exists():
                raise NotFoundError(f"no collection {collection!r}")
            shard = self._shards.pop(collection, None)
            self._meta.pop(collection, None)
            if shard is not None:
                shard.close()
            shutil.rmtree(directory, ignore_errors=True)

    def close(self) -> None:
        """Flush and release every open shard."""
        with self._lock:
            for name, shard in self._shards.items():
                shard.flush()
                shard.close()
                store_lock.release(self._dir(name))
            self._shards.clear()

"""The embedded default store: one qdrant-edge shard per collection, in a directory, no server.

Layout: ``ROOT/<collection>/collection.json`` (dim, model), ``ROOT/<collection>/shard/``, its
``manifest.json`` (file sizes at the last clean close) and ``ROOT/.locks/`` (store_lock.py).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from autan.errors import BackendError, ConfigError, NotFoundError, missing_extra
from autan.memory import sparse
from autan.memory.store_lock import CollectionLock, check_manifest, stderr_notice, write_manifest
from autan.memory.vectorstore import (
    DENSE,
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
    fused,
    fusion_depth,
    point_uuid,
    ranked,
    search_plan,
    stored_payload,
    to_hit,
)

try:
    import qdrant_edge as qe
except ImportError:  # pragma: no cover - part of the retrieval extra
    qe = None  # type: ignore[assignment]

META = "collection.json"
HANDOVER_POLL_S = 0.1
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
    """Collections as qdrant-edge shards under one directory, shared by processes in turn.

    A collection is opened under its cross-process lock (store_lock.py) and stays open between
    operations until another process or store asks for it; a background thread hands it over.
    """

    def __init__(
        self,
        root: Path,
        *,
        lock_timeout_s: float = 60.0,
        notify: Callable[[str], None] | None = stderr_notice,
    ) -> None:
        if qe is None:
            raise missing_extra("retrieval", "qdrant-edge-py")
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"vector store path {self.root} is not a directory")
        self.lock_timeout_s, self.notify = lock_timeout_s, notify
        self._shards: dict[str, Any] = {}
        self._meta: dict[str, dict[str, Any]] = {}
        self._locks: dict[str, CollectionLock] = {}
        self._handed: set[str] = set()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

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
                f"vector store collection {name!r} is corrupt: {path} is unreadable",
                hint=f"drop it with 'autan collections drop {name}' and ingest again",
            ) from None
        self._meta[name] = meta
        return meta

    def _collection_lock(self, name: str) -> CollectionLock:
        if name not in self._locks:
            self._locks[name] = CollectionLock(
                self.root, name, timeout_s=self.lock_timeout_s, notify=self.notify
            )
        return self._locks[name]

    def _hold(self, name: str) -> CollectionLock:
        lock = self._collection_lock(name)
        lock.acquire(after_handover=name in self._handed)
        self._handed.discard(name)
        return lock

    def _shard(self, name: str) -> Any:
        with self._lock:
            if name in self._shards:
                return self._shards[name]
            self._meta.pop(name, None)  # another process may have changed it meanwhile
            if self._read_meta(name) is None:
                raise NotFoundError(
                    f"no collection {name!r}",
                    hint="run 'autan ingest PATH' or 'autan collections list'",
                )
            lock = self._hold(name)
            try:
                shard = open_shard(name, self._dir(name))
            except BaseException:
                lock.release()
                raise
            self._shards[name] = shard
            self._watch()
            return shard

    @contextmanager
    def _use(self, name: str) -> Iterator[Any]:
        """The open shard, kept from other threads (and hand-overs) for one operation."""
        with self._lock:
            yield self._shard(name)

    def _let_go(self, name: str) -> None:
        shard = self._shards.pop(name, None)
        if shard is not None:
            close_shard(self._dir(name), shard)
        self._collection_lock(name).release()

    def _watch(self) -> None:
        if self._watcher is None or not self._watcher.is_alive():
            self._watcher = threading.Thread(target=self._hand_over, daemon=True)
            self._watcher.start()

    def _hand_over(self) -> None:
        """Close and release collections another process or store is queued for."""
        while not self._stop.wait(HANDOVER_POLL_S):
            if not self._lock.acquire(blocking=False):
                continue
            try:
                for name in [n for n in self._shards if self._locks[n].waiting()]:
                    self._let_go(name)
                    self._handed.add(name)
            finally:
                self._lock.release()

    def ensure_collection(self, name: str, dim: int, model: str | None = None) -> None:
        """Create the collection if needed; ``ConfigError`` if it exists with another dim/model."""
        with self._lock:
            meta = self._read_meta(name)
            if meta is None and name not in self._shards:
                self._hold(name)  # another process may be creating it right now
                self._meta.pop(name, None)
                meta = self._read_meta(name)
                if meta is None:
                    self._create(name, dim, model)
                    return
                self._let_go(name)
            if meta is not None:
                check_compatible(name, int(meta["dim"]), meta.get("model"), dim, model)
            self._shard(name)

    def _create(self, name: str, dim: int, model: str | None) -> None:
        directory = self._dir(name)
        if directory.exists() and any(directory.iterdir()):
            self._let_go(name)
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
        tmp = directory / f".{META}.{os.getpid()}"
        tmp.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, directory / META)
        self._meta[name] = meta
        self._shards[name] = shard
        self._watch()

    def _dim(self, name: str) -> int:
        meta = self._read_meta(name)
        if meta is None:
            raise NotFoundError(f"no collection {name!r}")
        return int(meta["dim"])

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """Insert or replace points, in batches."""
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
            with self._use(collection) as shard:
                _apply(shard, qe.UpdateOperation.upsert_points(batch))
                _apply(shard)

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
            self._dim(collection)  # a missing collection is still an error
            return []
        depth = fusion_depth(k)
        with self._use(collection) as shard:
            rankings = [
                ranked(
                    shard.query(
                        qe.QueryRequest(limit=depth, query=q, filter=flt, with_payload=True)
                    ),
                    depth,
                )
                for q in queries
            ]
        return fused(rankings, k)

    def count(self, collection: str, filter: Filter | None = None) -> int:
        """Number of points (matching ``filter``)."""
        with self._use(collection) as shard:
            return int(shard.count(qe.CountRequest(exact=True, filter=_edge_filter(filter))))

    def scan(
        self, collection: str, filter: Filter | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every matching point's id and payload, without vectors (a page at a time)."""
        flt = _edge_filter(filter)
        offset: Any = None
        while True:
            with self._use(collection) as shard:
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
        removed = 0
        with self._use(collection) as shard:
            if source is not None:
                flt = _edge_filter(Filter(source=source))
                removed += int(shard.count(qe.CountRequest(exact=True, filter=flt)))
                _apply(shard, qe.UpdateOperation.delete_points_by_filter(flt))
            if ids:
                uuids: list[Any] = [point_uuid(i) for i in ids]
                removed += len(shard.retrieve(uuids, with_payload=False, with_vector=False))
                _apply(shard, qe.UpdateOperation.delete_points(uuids))
            _apply(shard)
        return removed

    def info(self, collection: str) -> CollectionInfo:
        """Dimension, embedding model and size of one collection."""
        with self._lock:
            count = self.count(collection)
            meta = self._read_meta(collection) or {}
        return CollectionInfo(collection, int(meta["dim"]), meta.get("model"), count)

    def embedder_of(self, collection: str) -> str | None:
        """The embedder identity a collection records, read without opening it."""
        meta = self._read_meta(collection)
        return None if meta is None else meta.get("model")

    def collections(self) -> list[str]:
        """Collection names (directories holding collection metadata)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / META).is_file())

    def drop(self, collection: str) -> None:
        """Delete a collection and everything in it (once no other process uses it)."""
        directory = self._dir(collection)
        with self._lock:
            if not (directory / META).exists() and not directory.exists():
                raise NotFoundError(f"no collection {collection!r}")
            self._let_go(collection)
            self._hold(collection)
            try:
                shutil.rmtree(directory, ignore_errors=True)
            finally:
                self._meta.pop(collection, None)
                self._collection_lock(collection).release()

    def close(self) -> None:
        """Flush and release every open shard, stop handing over."""
        self._stop.set()
        with self._lock:
            for name in list(self._shards):
                self._let_go(name)
            for lock in self._locks.values():
                lock.close()
            self._locks.clear()


def open_shard(name: str, directory: Path) -> Any:
    """Load a collection's shard (its lock held); damage is reported and left untouched."""
    shard_dir = directory / "shard"
    check_manifest(name, directory, shard_dir)
    try:
        shard = qe.EdgeShard.load(str(shard_dir))
    except BaseException as exc:  # the engine raises plain errors, and panics
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "WouldBlock" in message:
            raise BackendError(
                f"vector store collection {name!r} is open in a process that does not take "
                "autan's collection lock (an older autan?)",
                hint="let that process finish, then run this again",
            ) from None
        raise ConfigError(
            f"vector store collection {name!r} is corrupt: the engine cannot open it ({message})",
            hint=f"restore {directory} from a backup, or drop it with "
            f"'autan collections drop {name}' and ingest again",
        ) from None
    write_manifest(directory, shard_dir, clean=False)
    return shard


def close_shard(directory: Path, shard: Any) -> None:
    """Flush and close a shard and record its files for the next open's damage check."""
    try:
        shard.flush()
    finally:
        shard.close()
    write_manifest(directory, directory / "shard", clean=True)


def _apply(shard: Any, op: Any = None) -> None:
    """Run one update (or, without one, a flush), mapping the engine's errors."""
    try:
        shard.update(op) if op is not None else shard.flush()
    except Exception as exc:  # noqa: BLE001 - map the engine's errors at the boundary
        raise BackendError(f"embedded vector store failed: {exc}") from None

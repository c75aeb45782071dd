"""Qdrant through qdrant-client: ``:memory:``, a local path, or a server/cluster URL with API key.

One collection per name with a named dense vector and a named BM25 sparse vector (IDF modifier),
payload indexes, batched upserts, and hybrid queries as two prefetches fused by RRF.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient, models

from autan.errors import BackendError, BackendTimeout, ConfigError, NotFoundError
from autan.memory import sparse
from autan.memory.store_lock import CollectionLock, stderr_notice
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

HANDOVER_POLL_S = 0.1
INDEXED = {
    "source": models.PayloadSchemaType.KEYWORD,
    "_dirs": models.PayloadSchemaType.KEYWORD,
    "tags": models.PayloadSchemaType.KEYWORD,
    "date": models.PayloadSchemaType.DATETIME,
}


def _qdrant_filter(flt: Filter | None) -> models.Filter | None:
    conds = conditions(flt)
    if not conds:
        return None
    must: list[Any] = []
    for kind, key, value in conds:
        if kind == "match":
            must.append(models.FieldCondition(key=key, match=models.MatchValue(value=value)))
        else:
            must.append(models.FieldCondition(key=key, range=models.DatetimeRange(**value)))
    return models.Filter(must=must)


def _connect(path: Path | str | None, url: str | None, api_key: str | None) -> QdrantClient:
    try:
        if url:
            return QdrantClient(url=url, api_key=api_key, timeout=30)
        if path is None or str(path) == ":memory:":
            return QdrantClient(location=":memory:")
        Path(path).mkdir(parents=True, exist_ok=True)
        return QdrantClient(path=str(path))
    except (ValueError, RuntimeError, OSError) as exc:
        where = url or str(path)
        raise ConfigError(
            f"cannot open Qdrant at {where}: {exc}",
            hint="check the path (another process may hold it) or the server URL",
        ) from None


def local_path_lock(
    path: Path, timeout_s: float, notify: Callable[[str], None] | None
) -> CollectionLock:
    """The lock on a local-mode folder: qdrant-client opens it in one process at a time.

    Without it a second process gets qdrant-client's own "already accessed" error; with it, it
    waits (naming the holder) while the holder hands the folder over between operations.
    """
    return CollectionLock(
        path, "qdrant-local", timeout_s=timeout_s, notify=notify, label=f"Qdrant folder {path}"
    )


class QdrantStore:
    """The qdrant-client backend; the same code path a production deployment uses."""

    def __init__(
        self,
        *,
        path: Path | str | None = None,
        url: str | None = None,
        api_key: str | None = None,
        lock_timeout_s: float = 60.0,
        notify: Callable[[str], None] | None = stderr_notice,
    ) -> None:
        logging.getLogger("qdrant_client").setLevel(logging.ERROR)
        self.location = url or str(path or ":memory:")
        self._path, self._url, self._api_key = path, url, api_key
        self._local_lock: CollectionLock | None = None
        if not url and path is not None and str(path) != ":memory:":
            self._local_lock = local_path_lock(Path(path), lock_timeout_s, notify)
        self._guard = threading.RLock()
        self._handed = False
        self._client: QdrantClient | None = None
        self._stop = threading.Event()
        self._open()
        if self._local_lock is not None:  # an idle holder hands over too
            threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while not self._stop.wait(HANDOVER_POLL_S):
            if self._guard.acquire(blocking=False):
                try:
                    self._let_go_if_asked()
                finally:
                    self._guard.release()

    def _open(self) -> QdrantClient:
        if self._client is None:
            if self._local_lock is not None:
                self._local_lock.acquire(after_handover=self._handed)
            self._client = _connect(self._path, self._url, self._api_key)
        return self._client

    @property
    def client(self) -> QdrantClient:
        """The qdrant-client instance (reopened if it was handed over to another process)."""
        with self._guard:
            return self._open()

    def _let_go_if_asked(self) -> None:
        """Local mode: close and unlock the folder when another process queues for it."""
        lock = self._local_lock
        if lock is not None and self._client is not None and lock.waiting():
            self._client.close()
            self._client, self._handed = None, True
            lock.release()

    def _call(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        with self._guard:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return getattr(self._open(), method)(*args, **kwargs)
            except (ConfigError, NotFoundError, BackendTimeout):
                raise
            except Exception as exc:  # noqa: BLE001 - map client errors at the boundary
                raise BackendError(f"Qdrant {what} failed at {self.location}: {exc}") from None
            finally:
                self._let_go_if_asked()

    def _exists(self, name: str) -> bool:
        return bool(self._call("lookup", "collection_exists", check_name(name)))

    def _require(self, name: str) -> None:
        if not self._exists(name):
            raise NotFoundError(
                f"no collection {name!r}",
                hint="run 'autan ingest PATH' or 'autan collections list'",
            )

    def _described(self, name: str) -> tuple[int, str | None]:
        info = self._call("info", "get_collection", name)
        vectors = info.config.params.vectors
        if not isinstance(vectors, dict) or DENSE not in vectors:
            raise ConfigError(f"collection {name!r} was not created by autan (no {DENSE!r} vector)")
        metadata = getattr(info.config, "metadata", None) or {}
        return int(vectors[DENSE].size), metadata.get("model")

    def ensure_collection(self, name: str, dim: int, model: str | None = None) -> None:
        """Create the collection if needed; ``ConfigError`` if it exists with another dim/model."""
        if self._exists(name):
            have_dim, have_model = self._described(name)
            check_compatible(name, have_dim, have_model, dim, model)
            return
        self._call(
            "create",
            "create_collection",
            name,
            vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            metadata={"model": model, "dim": dim},
        )
        for key, schema in INDEXED.items():
            self._call("index", "create_payload_index", name, key, schema)

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """Insert or replace points, in batches."""
        dim, _ = self._described(collection)
        for start in range(0, len(points), UPSERT_BATCH):
            batch = []
            for p in points[start : start + UPSERT_BATCH]:
                check_vector(collection, dim, p.vector)
                ids, values = sparse.document_vector(p.index_text or p.text)
                vectors: dict[str, Any] = {
                    DENSE: list(p.vector),
                    SPARSE: models.SparseVector(indices=ids, values=values),
                }
                batch.append(
                    models.PointStruct(
                        id=point_uuid(p.id), vector=vectors, payload=stored_payload(p)
                    )
                )
            self._call("upsert", "upsert", collection, points=batch, wait=True)

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
        self._require(collection)
        flt = _qdrant_filter(filter)
        queries: list[tuple[Any, str]] = []
        if use_dense and vector is not None:
            check_vector(collection, self._described(collection)[0], vector)
            queries.append((list(vector), DENSE))
        if use_sparse and text:
            ids, values = sparse.query_vector(text)
            if ids:
                queries.append((models.SparseVector(indices=ids, values=values), SPARSE))
        if not queries:
            return []
        depth = fusion_depth(k)
        rankings = [
            ranked(self._query(collection, q, using, flt, depth), depth) for q, using in queries
        ]
        return fused(rankings, k)

    def _query(self, collection: str, query: Any, using: str, flt: Any, limit: int) -> Any:
        response = self._call(
            "query", "query_points", collection,
            query=query, using=using, query_filter=flt, limit=limit, with_payload=True,
        )  # fmt: skip
        return response.points

    def count(self, collection: str, filter: Filter | None = None) -> int:
        """Number of points (matching ``filter``)."""
        self._require(collection)
        result = self._call(
            "count", "count", collection, count_filter=_qdrant_filter(filter), exact=True
        )
        return int(result.count)

    def scan(
        self, collection: str, filter: Filter | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every matching point's id and payload, without vectors."""
        self._require(collection)
        flt = _qdrant_filter(filter)
        offset: Any = None
        while True:
            records, offset = self._call(
                "scroll",
                "scroll",
                collection,
                scroll_filter=flt,
                limit=1024,
                offset=offset,
                with_payload=True,
                with_vectors=False,
            )
            for r in records:
                hit = to_hit(0.0, r.payload)
                yield hit.id, hit.payload
            if offset is None:
                return

    def delete(self, collection: str, *, source: str | None = None, ids: Sequence[str] = ()) -> int:
        """Delete points by source and/or id; returns how many were removed."""
        self._require(collection)
        removed = 0
        if source is not None:
            removed += self.count(collection, Filter(source=source))
            by_source = models.FilterSelector(
                filter=models.Filter(
                    must=[
                        models.FieldCondition(key="source", match=models.MatchValue(value=source))
                    ]
                )
            )
            self._call("delete", "delete", collection, by_source, wait=True)
        if ids:
            uuids = [point_uuid(i) for i in ids]
            found = self._call("retrieve", "retrieve", collection, uuids)
            removed += len(found)
            by_id = models.PointIdsList(points=list(uuids))
            self._call("delete", "delete", collection, by_id, wait=True)
        return removed

    def info(self, collection: str) -> CollectionInfo:
        """Dimension, embedding model and size of one collection."""
        self._require(collection)
        dim, model = self._described(collection)
        return CollectionInfo(collection, dim, model, self.count(collection))

    def embedder_of(self, collection: str) -> str | None:
        """The embedder identity a collection records; None if it does not exist."""
        return self._described(collection)[1] if self._exists(collection) else None

    def collections(self) -> list[str]:
        """Collection names."""
        response = self._call("list", "get_collections")
        return sorted(c.name for c in response.collections)

    def drop(self, collection: str) -> None:
        """Delete a collection and everything in it."""
        self._require(collection)
        self._call("drop", "delete_collection", collection)

    def close(self) -> None:
        """Release the client (and the local-mode lock on its directory)."""
        self._stop.set()
        with self._guard:
            client, self._client = self._client, None
            try:
                if client is not None:
                    client.close()
            except Exception as exc:  # noqa: BLE001 - map client errors at the boundary
                raise BackendError(f"Qdrant close failed at {self.location}: {exc}") from None
            finally:
                if self._local_lock is not None:
                    self._local_lock.close()
                    self._local_lock = None

"""Qdrant through qdrant-client: ``:memory:``, a local path, or a server/cluster URL with API key.

One collection per name with a named dense vector and a named BM25 sparse vector (IDF modifier),
payload indexes, batched upserts, and hybrid queries as two prefetches fused by RRF.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient, models

from autan.errors import BackendError, ConfigError, NotFoundError
from autan.memory import sparse
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


class QdrantStore:
    """The qdrant-client backend; the same code path a production deployment uses."""

    def __init__(
        self, *, path: Path | str | None = None, url: str | None = None, api_key: str | None = None
    ) -> None:
        logging.getLogger("qdrant_client").setLevel(logging.ERROR)
        self.location = url or str(path or ":memory:")
        self.client = _connect(path, url, api_key)

    def _call(self, what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return func(*args, **kwargs)
        except (ConfigError, NotFoundError):
            raise
        except Exception as exc:  # noqa: BLE001 - map client errors at the boundary
            raise BackendError(f"Qdrant {what} failed at {self.location}: {exc}") from None

    def _exists(self, name: str) -> bool:
        return bool(self._call("lookup", self.client.collection_exists, check_name(name)))

    def _require(self, name: str) -> None:
        if not self._exists(name):
            raise NotFoundError(
                f"no collection {name!r}",
                hint="run 'autan ingest PATH' or 'autan collections list'",
            )

    def _described(self, name: str) -> tuple[int, str | None]:
        info = self._call("info", self.client.get_collection, name)
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
            self.client.create_collection,
            name,
            vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            metadata={"model": model, "dim": dim},
        )
        for key, schema in INDEXED.items():
            self._call("index", self.client.create_payload_index, name, key, schema)

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
            self._call("upsert", self.client.upsert, collection, points=batch, wait=True)

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
        """Top-k hits; hybrid is a dense and a BM25 prefetch fused with RRF."""
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
        if len(queries) == 1:
            query, using = queries[0]
            kwargs: dict[str, Any] = {"query": query, "using": using, "query_filter": flt}
        else:
            depth = max(50, 4 * k)
            prefetch = [
                models.Prefetch(query=q, using=u, limit=depth, filter=flt) for q, u in queries
            ]
            kwargs = {"prefetch": prefetch, "query": models.RrfQuery(rrf=models.Rrf(k=RRF_K))}
        response = self._call(
            "query", self.client.query_points, collection, limit=k, with_payload=True, **kwargs
        )
        return [to_hit(p.score, p.payload) for p in response.points]

    def count(self, collection: str, filter: Filter | None = None) -> int:
        """Number of points (matching ``filter``)."""
        self._require(collection)
        result = self._call(
            "count", self.client.count, collection, count_filter=_qdrant_filter(filter), exact=True
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
                self.client.scroll,
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
            self._call("delete", self.client.delete, collection, by_source, wait=True)
        if ids:
            uuids = [point_uuid(i) for i in ids]
            found = self._call("retrieve", self.client.retrieve, collection, uuids)
            removed += len(found)
            by_id = models.PointIdsList(points=list(uuids))
            self._call("delete", self.client.delete, collection, by_id, wait=True)
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
        response = self._call("list", self.client.get_collections)
        return sorted(c.name for c in response.collections)

    def drop(self, collection: str) -> None:
        """Delete a collection and everything in it."""
        self._require(collection)
        self._call("drop", self.client.delete_collection, collection)

    def close(self) -> None:
        """Release the client (and the local-mode lock on its directory)."""
        self._call("close", self.client.close)

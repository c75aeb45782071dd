"""autan's retrieval parts as LangChain objects: ``Embeddings``, ``VectorStore``, ``BaseRetriever``.

``AutanEmbeddings`` wraps any autan embedder; ``AutanVectorStore`` is one autan collection
(dense search, metadata filters, delete and get by id, ``as_retriever()``); ``AutanRetriever``
runs autan's own hybrid search and returns ``Document``s that carry their citation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import VectorStore as LCVectorStore
from pydantic import ConfigDict

from autan.config import Settings
from autan.errors import UserInputError
from autan.memory.embeddings import Embedder, load_embedder
from autan.memory.retriever import FILTER_KEYS, Retriever, make_filter
from autan.memory.vectorstore import Filter, Point, VectorStore, open_store

META_KEY = "metadata"  # the LangChain metadata, stored whole so it comes back exactly
TEXT_COPY = "page_content"  # scans return payloads only; get_by_ids reads the text here
_SCAN_LIMIT = 10_000


class AutanEmbeddings(Embeddings):
    """An autan embedder (``minilm``, ``hashing[:DIM]``, a path, or an instance) as Embeddings."""

    def __init__(self, embedder: Embedder | str = "minilm") -> None:
        self.embedder = load_embedder(embedder) if isinstance(embedder, str) else embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order."""
        return [list(v) for v in self.embedder.embed(texts)] if texts else []

    def embed_query(self, text: str) -> list[float]:
        """The vector of one query."""
        return list(self.embedder.embed_query(text))


def metadata_filter(
    flt: dict[str, Any] | Callable[[Document], bool] | None,
) -> tuple[Filter | None, Callable[[dict[str, Any]], bool]]:
    """Split a LangChain filter: autan's own keys go to the store, other keys match metadata."""
    if callable(flt):
        test = flt
        return None, lambda meta: bool(test(Document(page_content="", metadata=meta)))
    own = {k: v for k, v in (flt or {}).items() if k in FILTER_KEYS}
    rest = {k: v for k, v in (flt or {}).items() if k not in FILTER_KEYS}
    return make_filter(own), lambda meta: all(meta.get(k) == v for k, v in rest.items())


class AutanVectorStore(LCVectorStore):
    """One autan collection as a LangChain vector store (dense search over ``embedding``)."""

    def __init__(
        self,
        embedding: Embeddings,
        *,
        collection: str = "docs",
        store: VectorStore | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.embedding = embedding
        self.collection = collection
        self.store = store or open_store(settings or Settings())
        self._dim: int | None = None

    @property
    def embeddings(self) -> Embeddings:
        """The embeddings this store searches with."""
        return self.embedding

    def _ready(self, dim: int) -> None:
        if self._dim is None:
            self.store.ensure_collection(self.collection, dim, type(self.embedding).__name__)
            self._dim = dim

    def _exists(self) -> bool:
        return self.collection in self.store.collections()

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embed and upsert texts; ids are kept (or made) so they can be fetched and deleted."""
        texts = list(texts)
        if not texts:
            return []
        metas = metadatas or [{} for _ in texts]
        given = ids or [None] * len(texts)  # type: ignore[list-item]
        keys = [str(i) if i else str(uuid.uuid4()) for i in given]
        vectors = self.embedding.embed_documents(texts)
        self._ready(len(vectors[0]))
        points = [
            Point(id=k, vector=v, text=t, payload={**_payload(m), TEXT_COPY: t})
            for k, v, t, m in zip(keys, vectors, texts, metas, strict=True)
        ]
        self.store.upsert(self.collection, points)
        return keys

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Add documents, keeping each one's own ``id`` unless ``ids`` are given."""
        if "ids" not in kwargs and any(d.id for d in documents):
            kwargs["ids"] = [d.id for d in documents]
        texts = [d.page_content for d in documents]
        return self.add_texts(texts, [dict(d.metadata) for d in documents], **kwargs)

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """The ``k`` nearest documents and their cosine scores, matching ``filter``."""
        return self._search(self.embedding.embed_query(query), k, filter)

    def similarity_search(
        self, query: str, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[Document]:
        """The ``k`` nearest documents matching ``filter``."""
        return [d for d, _ in self.similarity_search_with_score(query, k, filter)]

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[Document]:
        """The ``k`` documents nearest to a vector."""
        return [d for d, _ in self._search(embedding, k, filter)]

    def _search(self, vector: list[float], k: int, flt: Any) -> list[tuple[Document, float]]:
        if not self._exists():
            return []
        own, keep = metadata_filter(flt)
        wide = k if flt is None or not callable(flt) and set(flt) <= set(FILTER_KEYS) else None
        limit = wide or max(k, min(self.store.count(self.collection, own), _SCAN_LIMIT))
        hits = self.store.search(
            self.collection, vector=vector, text=None, k=limit, filter=own, mode="dense"
        )
        found = [(_document(h.id, h.text, h.payload), h.score) for h in hits]
        return [(d, s) for d, s in found if keep(d.metadata)][:k]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        return lambda score: (score + 1.0) / 2.0  # cosine in [-1, 1] -> [0, 1]

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Delete by id (missing ids are ignored); ``ids=None`` deletes nothing."""
        if ids and self._exists():
            self.store.delete(self.collection, ids=[str(i) for i in ids])
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The stored documents with these ids (missing ones left out)."""
        wanted = {str(i) for i in ids}
        if not wanted or not self._exists():
            return []
        found = {
            pid: _document(pid, str(payload.get(TEXT_COPY, "")), payload)
            for pid, payload in self.store.scan(self.collection)
            if pid in wanted
        }
        return [found[str(i)] for i in ids if str(i) in found]

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> AutanVectorStore:
        """A store (``collection``, ``store`` or ``settings`` in kwargs) holding ``texts``."""
        store = cls(embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store


def _payload(meta: dict[str, Any]) -> dict[str, Any]:
    """Stored payload: the metadata whole, plus autan's filterable keys when present."""
    payload: dict[str, Any] = {META_KEY: dict(meta)}
    for key in ("source", "title", "tags", "date"):
        if key in meta:
            payload[key] = meta[key]
    return payload


def _document(point_id: str, text: str, payload: dict[str, Any]) -> Document:
    meta = payload.get(META_KEY)  # points ingested by autan itself: their payload is the metadata
    if meta is None:
        meta = {k: v for k, v in payload.items() if k != TEXT_COPY}
    return Document(id=point_id, page_content=text, metadata=dict(meta or {}))


class AutanRetriever(BaseRetriever):
    """autan's hybrid search over a collection; each Document's metadata is its citation."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    settings: Settings | None = None
    collection: str | None = None
    k: int = 4
    filters: dict[str, Any] | None = None
    retriever: Retriever | None = None

    def _autan(self) -> Retriever:
        if self.retriever is None:
            self.retriever = Retriever(self.settings or Settings(), collection=self.collection)
        return self.retriever

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        if k < 1:
            raise UserInputError(f"k must be at least 1, not {k}")
        cites = self._autan().cite(query, k, make_filter(kwargs.get("filters", self.filters)))
        return [
            Document(
                id=str(c["key"]),
                page_content=str(c["text"]),
                metadata={key: v for key, v in c.items() if key != "text"},
            )
            for c in cites
        ]

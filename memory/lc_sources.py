"""Any LangChain ``Embeddings``, ``VectorStore`` or ``BaseRetriever`` as autan's retrieval backend.

``LangChainEmbedder`` makes LangChain embeddings an autan ``Embedder`` (ingest and search with
them); ``LangChainDocs`` answers ``search_docs`` from a LangChain vector store or retriever, its
documents turned into autan citations and filtered by the same keys as autan's own store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import VectorStore as LCVectorStore

from autan.errors import BackendError, UserInputError
from autan.memory.retriever import Retriever, make_filter, parse_date
from autan.memory.vectorstore import Filter, ancestors

DocSource = Retriever | BaseRetriever | LCVectorStore


class LangChainEmbedder:
    """LangChain embeddings as an autan ``Embedder`` (its dimension probed once)."""

    def __init__(self, embeddings: Embeddings, name: str | None = None) -> None:
        self.embeddings = embeddings
        self.name = name or type(embeddings).__name__
        self.dim = len(embeddings.embed_query("dimension probe"))

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for documents, in input order."""
        return [list(v) for v in self.embeddings.embed_documents(list(texts))] if texts else []

    def embed_query(self, text: str) -> list[float]:
        """The vector for one query."""
        return list(self.embeddings.embed_query(text))


def _date(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return parse_date(value, "date") if isinstance(value, str) and value else None


def matches(meta: dict[str, Any], flt: Filter | None) -> bool:
    """Whether a document's metadata meets an autan ``Filter`` (same rules as the store's)."""
    if flt is None:
        return True
    source = str(meta.get("source", ""))
    tags = meta.get("tags") or ()
    when = _date(meta.get("date"))
    return (
        (flt.source is None or source == flt.source)
        and (flt.path_prefix is None or flt.path_prefix.rstrip("/") in ancestors(source))
        and set(flt.tags) <= set(tags if isinstance(tags, list | tuple) else [tags])
        and (flt.after is None or (when is not None and when >= flt.after))
        and (flt.before is None or (when is not None and when < flt.before))
    )


def _citation(doc: Document, number: int, score: float | None) -> dict[str, Any]:
    meta = doc.metadata
    key = doc.id or hashlib.sha256(doc.page_content.encode()).hexdigest()[:16]
    return {
        "key": str(key),
        "id": str(number),
        "source": str(meta.get("source", "")),
        "title": str(meta.get("title", "")),
        "heading_path": list(meta.get("heading_path") or []),
        "start": meta.get("start"),
        "end": meta.get("end"),
        "text": doc.page_content,
        "score": round(float(score if score is not None else meta.get("score", 0.0)), 6),
    }


class LangChainDocs:
    """``search_docs`` over a LangChain vector store or retriever."""

    def __init__(self, source: BaseRetriever | LCVectorStore, *, name: str = "langchain") -> None:
        self.source, self.collection = source, name

    def _found(self, query: str, k: int) -> list[tuple[Document, float | None]]:
        if isinstance(self.source, LCVectorStore):
            return [(d, s) for d, s in self.source.similarity_search_with_score(query, k=k)]
        return [(d, None) for d in self.source.invoke(query)]

    def cite(self, query: str, k: int = 5, flt: Filter | None = None) -> list[dict[str, Any]]:
        """The top ``k`` documents meeting ``flt``, as numbered citations."""
        if not query.strip():
            raise UserInputError("the query is empty", hint="give a question or some keywords")
        try:
            found = self._found(query, k if flt is None else max(4 * k, 20))
        except Exception as exc:  # noqa: BLE001 - a foreign backend's failure, mapped here
            raise BackendError(f"the LangChain retriever failed: {exc}") from exc
        kept = [(d, s) for d, s in found if matches(d.metadata, flt)][:k]
        return [_citation(d, i, s) for i, (d, s) in enumerate(kept, 1)]


def doc_source(source: DocSource) -> Retriever | LangChainDocs:
    """What ``search_docs`` searches: autan's own retriever, or a LangChain one wrapped."""
    return source if isinstance(source, Retriever) else LangChainDocs(source)


__all__ = ["LangChainDocs", "LangChainEmbedder", "doc_source", "make_filter", "matches"]

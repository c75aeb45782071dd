"""LangChain's Embeddings, VectorStore and Retriever suites on autan's adapters, both ways round."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_tests.integration_tests import (
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
    VectorStoreIntegrationTests,
)
from langchain_tests.unit_tests import EmbeddingsUnitTests

from autan.config import Settings, load_settings
from autan.memory.embeddings import HashingEmbedder
from autan.memory.ingest.pipeline import Ingestor
from autan.memory.lc_adapters import AutanEmbeddings, AutanRetriever, AutanVectorStore
from autan.memory.lc_sources import LangChainEmbedder
from autan.memory.retriever import Retriever
from autan.memory.store_edge import EdgeStore
from autan.memory.store_qdrant import QdrantStore
from autan.tools.retrieval import make_search_docs

DOCS = {
    "tides.md": "# Tides\n\nTides follow the moon and the sun.\n",
    "bread.md": "# Bread\n\nBread needs flour, water, salt and yeast.\n",
    "notes/rust.md": "# Rust\n\nRust's borrow checker prevents data races.\n",
}


class _Hashing:
    """``AutanEmbeddings`` over the hashing embedder."""

    @property
    def embeddings_class(self) -> type[Embeddings]:
        return AutanEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"embedder": "hashing:64"}


class TestHashingEmbeddingsUnit(_Hashing, EmbeddingsUnitTests):
    pass


class TestHashingEmbeddingsIntegration(_Hashing, EmbeddingsIntegrationTests):
    pass


class TestMiniLMEmbeddingsIntegration(_Hashing, EmbeddingsIntegrationTests):
    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"embedder": "minilm"}


class TestEmbeddedCollectionVectorStore(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, tmp_path: Path) -> Iterator[AutanVectorStore]:  # type: ignore[override]
        store = EdgeStore(tmp_path / "vectors")
        yield AutanVectorStore(self.get_embeddings(), collection="lc", store=store)
        store.close()


class TestQdrantCollectionVectorStore(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self) -> Iterator[AutanVectorStore]:  # type: ignore[override]
        store = QdrantStore(path=":memory:")
        yield AutanVectorStore(self.get_embeddings(), collection="lc", store=store)
        store.close()


@pytest.fixture
def ingested(workspace: Path) -> Settings:
    """A collection ingested by autan itself (hashing embedder), and settings that find it."""
    for name, text in DOCS.items():
        (workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / name).write_text(text, encoding="utf-8")
    settings = load_settings(workspace=workspace, retrieval={"embedder": "hashing"})
    store = EdgeStore(settings.data_dir / "vectors")
    Ingestor(store, HashingEmbedder(), tags=["demo"]).run([workspace])
    store.close()
    return settings


@pytest.fixture
def searcher(ingested: Settings) -> Iterator[Retriever]:
    """autan's retriever on that collection (the embedded store admits one opener at a time)."""
    retriever = Retriever(ingested)
    yield retriever
    retriever.close()


_SHARED: dict[str, Retriever] = {}


class TestAutanRetriever(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _collection(self, searcher: Retriever) -> None:
        _SHARED["now"] = searcher

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return AutanRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"retriever": _SHARED["now"]}

    @property
    def retriever_query_example(self) -> str:
        return "what do tides follow"


def test_retriever_documents_carry_their_citation(ingested: Settings, searcher: Retriever) -> None:
    docs = AutanRetriever(retriever=searcher, k=2).invoke("tides and the moon")
    assert docs[0].metadata["source"].endswith("tides.md")
    assert docs[0].metadata["id"] == "1" and docs[0].id == docs[0].metadata["key"]
    assert "moon" in docs[0].page_content
    only = AutanRetriever(
        retriever=searcher, filters={"path_prefix": str(ingested.workspace / "notes")}
    )
    assert {d.metadata["source"] for d in only.invoke("data races")} == {
        str(ingested.workspace / "notes" / "rust.md")
    }


def test_an_autan_collection_serves_a_plain_langchain_chain(ingested: Settings) -> None:
    store = AutanVectorStore(
        AutanEmbeddings("hashing"), store=EdgeStore(ingested.data_dir / "vectors")
    )
    retriever = store.as_retriever(search_kwargs={"k": 1})
    seen: list[str] = []

    def context(docs: list[Document]) -> str:
        seen.extend(d.page_content for d in docs)
        return "\n".join(d.page_content for d in docs)

    prompt = ChatPromptTemplate.from_messages([("human", "{context}\n\nQ: {question}")])
    chain = (
        {"context": retriever | context, "question": RunnablePassthrough()}
        | prompt
        | FakeListChatModel(responses=["flour"])
        | StrOutputParser()
    )
    assert chain.invoke("what goes into bread") == "flour"
    assert len(seen) == 1 and "flour" in seen[0]
    docs = store.similarity_search("bread", k=3, filter={"tags": ["demo"]})
    assert docs and all("demo" in d.metadata["tags"] for d in docs)
    store.store.close()


def test_langchain_vectorstore_and_embeddings_back_search_docs(workspace: Path) -> None:
    embedder = LangChainEmbedder(AutanEmbeddings("hashing:64"))
    lc_store = InMemoryVectorStore(AutanEmbeddings("hashing:64"))
    lc_store.add_documents(
        [
            Document(page_content=t, metadata={"source": n, "tags": ["kb"]}, id=n)
            for n, t in DOCS.items()
        ]
    )
    settings = load_settings(workspace=workspace)
    tool = make_search_docs(settings, source=lc_store)
    result = tool.invoke({"query": "flour water salt yeast", "k": 2})
    assert result["ok"] and result["citations"][0]["source"] == "bread.md"
    assert result["citations"][0]["key"] == "bread.md" and result["count"] == 2
    only = tool.invoke({"query": "moon", "k": 3, "filters": {"path_prefix": "notes"}})
    assert [c["source"] for c in only["citations"]] == ["notes/rust.md"]
    assert embedder.dim == 64 and len(embedder.embed(["a", "b"])) == 2


def test_langchain_retriever_backs_search_docs_and_autan_retriever_round_trips(
    ingested: Settings, searcher: Retriever
) -> None:
    tool = make_search_docs(ingested, source=AutanRetriever(retriever=searcher, k=3))
    result = tool.invoke({"query": "borrow checker", "k": 1})
    assert result["ok"] and result["count"] == 1
    assert result["citations"][0]["source"].endswith("rust.md")
    native = searcher.cite("borrow checker", 1)
    assert result["citations"][0]["key"] == native[0]["key"]

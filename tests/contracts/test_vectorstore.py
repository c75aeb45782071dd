"""One contract for every VectorStore backend: embedded (qdrant-edge), qdrant-client in memory
and on disk, and a Qdrant server when AUTAN_QDRANT_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from autan.errors import ConfigError, NotFoundError, UserInputError
from autan.memory.embeddings import HashingEmbedder
from autan.memory.store_edge import EdgeStore
from autan.memory.store_qdrant import QdrantStore
from autan.memory.vectorstore import Filter, Point, VectorStore

EMB = HashingEmbedder(64)
DOCS = {
    "a1": ("/docs/guide/files.md", "read a file line by line with a for loop over the file object"),
    "a2": ("/docs/guide/files.md", "write text to a file and close it with a context manager"),
    "b1": ("/docs/api/json.md", "parse json strings into dictionaries with json loads"),
    "b2": ("/docs/api/sort.md", "sort a list of numbers in place with list sort"),
    "c1": ("/other/notes.txt", "http requests and urllib for downloading pages"),
}
TAGS = {"a1": ["howto", "io"], "a2": ["howto"], "b1": ["api"], "b2": ["api"], "c1": []}
DATES = {
    "a1": "2024-01-01",
    "a2": "2024-02-01",
    "b1": "2024-03-01",
    "b2": "2024-04-01",
    "c1": "2024-05-01",
}

Opener = Callable[[Path], VectorStore]


def _qdrant_url(_: Path) -> VectorStore:
    return QdrantStore(
        url=os.environ["AUTAN_QDRANT_URL"], api_key=os.environ.get("AUTAN_QDRANT_API_KEY")
    )


BACKENDS: dict[str, Opener] = {
    "embedded": lambda p: EdgeStore(p / "vectors"),
    "qdrant-memory": lambda p: QdrantStore(path=":memory:"),
    "qdrant-path": lambda p: QdrantStore(path=p / "qdrant"),
}
if os.environ.get("AUTAN_QDRANT_URL"):
    BACKENDS["qdrant-url"] = _qdrant_url


@pytest.fixture(params=sorted(BACKENDS))
def opener(request: pytest.FixtureRequest) -> Opener:
    return BACKENDS[request.param]


@pytest.fixture
def name() -> str:
    return f"t{uuid.uuid4().hex[:10]}"  # unique, so a shared server needs no cleanup between runs


@pytest.fixture
def store(opener: Opener, tmp_path: Path, name: str) -> Iterator[VectorStore]:
    s = opener(tmp_path)
    s.ensure_collection(name, EMB.dim, EMB.name)
    s.upsert(name, [_point(i) for i in DOCS])
    yield s
    if name in s.collections():
        s.drop(name)
    s.close()


def _point(pid: str, text: str | None = None) -> Point:
    source, body = DOCS[pid]
    body = text or body
    payload = {"source": source, "tags": TAGS[pid], "date": DATES[pid] + "T00:00:00Z", "n": pid}
    return Point(pid, EMB.embed([body])[0], body, payload)


def _ids(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.id for h in hits]


def test_is_a_vector_store(store: VectorStore) -> None:
    assert isinstance(store, VectorStore)


def test_count_and_info(store: VectorStore, name: str) -> None:
    assert store.count(name) == 5
    info = store.info(name)
    assert (info.dim, info.model, info.count) == (64, EMB.name, 5)
    assert name in store.collections()
    assert store.embedder_of(name) == EMB.name
    assert store.embedder_of(name + "x") is None


@pytest.mark.parametrize("mode", ["hybrid", "dense", "sparse"])
def test_search_finds_the_matching_passage_first(store: VectorStore, name: str, mode: str) -> None:
    query = "read a file line by line"
    hits = store.search(name, vector=EMB.embed_query(query), text=query, k=3, mode=mode)  # type: ignore[arg-type]
    assert hits[0].id == "a1"
    assert hits[0].text == DOCS["a1"][1]
    assert hits[0].payload["source"] == "/docs/guide/files.md"
    assert hits[0].payload["n"] == "a1" and "_text" not in hits[0].payload
    assert len(hits) <= 3


def test_hybrid_fuses_both_rankings(store: VectorStore, name: str) -> None:
    """A passage only BM25 finds still reaches the fused top-k."""
    hits = store.search(name, vector=EMB.embed_query("zzz"), text="urllib", k=5)
    assert "c1" in _ids(hits)


def test_ties_are_ordered_by_id(store: VectorStore, name: str) -> None:
    # the same paragraph in twelve files: every mode scores them equal, so only the id orders them
    text = "license header repeated verbatim in every file"
    vector = EMB.embed([text])[0]
    ids = [f"dup{i:02d}" for i in (7, 3, 11, 0, 9, 5, 1, 10, 2, 8, 4, 6)]
    store.upsert(name, [Point(i, vector, text, {"source": f"/dup/{i}.md"}) for i in ids])
    for mode in ("hybrid", "dense", "sparse"):
        hits = store.search(name, vector=vector, text=text, k=5, mode=mode)  # type: ignore[arg-type]
        assert [h.id for h in hits] == sorted(ids)[:5], mode


def test_filters(store: VectorStore, name: str) -> None:
    vec, q = EMB.embed_query("file"), "file"
    assert set(
        _ids(store.search(name, vector=vec, text=q, filter=Filter(source="/docs/api/json.md")))
    ) == {"b1"}
    assert set(
        _ids(store.search(name, vector=vec, text=q, filter=Filter(path_prefix="/docs/guide/")))
    ) == {"a1", "a2"}
    assert set(
        _ids(store.search(name, vector=vec, text=q, filter=Filter(path_prefix="/docs")))
    ) == {"a1", "a2", "b1", "b2"}
    assert store.count(name, Filter(path_prefix="/doc")) == 0  # component boundaries, not strings
    assert set(
        _ids(store.search(name, vector=vec, text=q, filter=Filter(tags=("howto", "io"))))
    ) == {"a1"}
    window = Filter(after=datetime(2024, 2, 1, tzinfo=UTC), before=datetime(2024, 4, 1))
    assert set(_ids(store.search(name, vector=vec, text=q, filter=window))) == {"a2", "b1"}
    assert store.count(name, Filter(tags=("api",))) == 2


def test_upsert_replaces_by_id(store: VectorStore, name: str) -> None:
    store.upsert(name, [_point("b2", "binary search trees")])
    assert store.count(name) == 5
    hits = store.search(name, vector=None, text="binary trees", k=1, mode="sparse")
    assert _ids(hits) == ["b2"]


def test_delete_by_source_and_ids(store: VectorStore, name: str) -> None:
    assert store.delete(name, source="/docs/guide/files.md") == 2
    assert store.count(name) == 3
    assert store.delete(name, ids=["b1", "missing"]) == 1
    assert sorted(i for i, _ in store.scan(name)) == ["b2", "c1"]


def test_scan_yields_ids_and_payloads(store: VectorStore, name: str) -> None:
    rows = dict(store.scan(name, Filter(path_prefix="/docs/api")))
    assert set(rows) == {"b1", "b2"}
    assert rows["b1"]["tags"] == ["api"]


def test_other_dimension_is_a_config_error(store: VectorStore, name: str) -> None:
    with pytest.raises(ConfigError):
        store.ensure_collection(name, 32, "hashing-32")
    with pytest.raises(ConfigError):
        store.ensure_collection(name, 64, "another-model")
    with pytest.raises(ConfigError):
        store.upsert(name, [Point("x", [1.0] * 32, "short vector", {})])
    with pytest.raises(ConfigError):
        store.search(name, vector=[1.0] * 32, text=None, mode="dense")
    assert store.count(name) == 5


def test_empty_query_and_missing_collection(store: VectorStore, name: str) -> None:
    with pytest.raises(UserInputError):
        store.search(name, vector=None, text="  ", k=3)
    with pytest.raises(NotFoundError):
        store.count("no-such-collection")
    with pytest.raises(UserInputError):
        store.ensure_collection("../escape", 64)


def test_stopword_only_text_falls_back_to_dense(store: VectorStore, name: str) -> None:
    hits = store.search(name, vector=EMB.embed_query("sort numbers"), text="the of and", k=2)
    assert hits and hits[0].id == "b2"


def test_drop(store: VectorStore, name: str) -> None:
    store.drop(name)
    assert name not in store.collections()
    with pytest.raises(NotFoundError):
        store.drop(name)


def test_persists_across_reopen(opener: Opener, tmp_path: Path, name: str) -> None:
    if opener is BACKENDS["qdrant-memory"]:
        pytest.skip("in-memory by design")
    s = opener(tmp_path)
    s.ensure_collection(name, EMB.dim, EMB.name)
    s.upsert(name, [_point("a1"), _point("b1")])
    s.close()
    again = opener(tmp_path)
    try:
        assert again.count(name) == 2
        assert _ids(again.search(name, vector=None, text="json", k=1, mode="sparse")) == ["b1"]
    finally:
        again.drop(name)
        again.close()

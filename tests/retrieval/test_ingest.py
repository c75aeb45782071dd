from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from autan.errors import BackendError, ConfigError, UserInputError
from autan.memory.embeddings import HashingEmbedder
from autan.memory.ingest.pipeline import Ingestor
from autan.memory.store_edge import EdgeStore
from autan.memory.vectorstore import Filter, Point

from .corpus import write_corpus


class Counting(HashingEmbedder):
    """The hashing fake, counting what it embeds; can be told to interrupt after N calls."""

    def __init__(self, dim: int = 64, interrupt_after: int | None = None) -> None:
        super().__init__(dim)
        self.embedded = 0
        self.calls = 0
        self.interrupt_after = interrupt_after

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        if self.interrupt_after is not None and self.calls > self.interrupt_after:
            raise KeyboardInterrupt
        self.embedded += len(texts)
        return super().embed(texts)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "docs")


@pytest.fixture
def store(tmp_path: Path) -> EdgeStore:
    return EdgeStore(tmp_path / "vectors")


def _ingest(store: EdgeStore, emb: Counting, root: Path, **kw: object):  # type: ignore[no-untyped-def]
    return Ingestor(store, emb, collection="c", chunk_tokens=40, chunk_overlap=8, **kw).run([root])  # type: ignore[arg-type]


def test_first_ingest_indexes_and_reports_skips(store: EdgeStore, corpus: Path) -> None:
    emb = Counting()
    report = _ingest(store, emb, corpus, batch_size=4)
    assert report.files_indexed == 7
    assert {Path(s["path"]).name for s in report.skipped} == {
        "empty.md",
        "binary.txt",
        "latin1.txt",
        "broken.pdf",
    }
    assert report.chunks_embedded == emb.embedded == store.count("c") > 7
    hit = store.search(
        "c",
        vector=emb.embed_query("read a file line by line"),
        text="read a file line by line",
        k=1,
    )[0]
    assert hit.payload["source"].endswith("guide/files.md")
    assert hit.payload["heading_path"] == ["Files guide", "Reading"]
    assert {"title", "start", "end", "chunk_hash", "file_hash"} <= set(hit.payload)
    assert store.count("c", Filter(path_prefix=str(corpus / ".git"))) == 0


def test_unchanged_tree_embeds_nothing(store: EdgeStore, corpus: Path) -> None:
    _ingest(store, Counting(), corpus)
    again = Counting()
    report = _ingest(store, again, corpus)
    assert again.embedded == 0 and report.chunks_embedded == 0
    assert report.files_unchanged == 7


def test_changed_and_deleted_files(store: EdgeStore, corpus: Path) -> None:
    _ingest(store, Counting(), corpus)
    before = store.count("c")
    (corpus / "notes.txt").write_text("Completely new notes about quantum chromodynamics.\n")
    (corpus / "guide" / "sorting.rst").unlink()
    emb = Counting()
    report = _ingest(store, emb, corpus)
    assert report.files_indexed == 1 and report.files_removed == 1
    assert emb.embedded == 1  # only the changed file's one chunk
    notes = dict(store.scan("c", Filter(source=(corpus / "notes.txt").as_posix())))
    assert (
        len(notes) == 1
        and "quantum" in store.search("c", vector=None, text="quantum", k=1, mode="sparse")[0].text
    )
    assert store.count("c", Filter(source=(corpus / "guide/sorting.rst").as_posix())) == 0
    assert store.count("c") < before


def test_interrupted_ingest_resumes(tmp_path: Path, corpus: Path) -> None:
    reference = EdgeStore(tmp_path / "ref")
    _ingest(reference, Counting(), corpus, batch_size=2)
    store = EdgeStore(tmp_path / "vectors")
    report = _ingest(store, Counting(interrupt_after=2), corpus, batch_size=2)
    assert report.interrupted and 0 < store.count("c") < reference.count("c")
    resumed = Counting()
    report = _ingest(store, resumed, corpus, batch_size=2)
    assert not report.interrupted
    assert resumed.embedded < reference.count("c")  # finished files were not redone
    assert sorted(i for i, _ in store.scan("c")) == sorted(i for i, _ in reference.scan("c"))
    assert _ingest(store, Counting(), corpus).chunks_embedded == 0


def test_bad_input_leaves_the_store_untouched(store: EdgeStore, corpus: Path) -> None:
    _ingest(store, Counting(), corpus)
    count = store.count("c")
    with pytest.raises(UserInputError):
        _ingest(store, Counting(), corpus / "missing")
    with pytest.raises(ConfigError):
        _ingest(store, Counting(dim=32), corpus)
    assert store.count("c") == count


def test_a_folder_and_a_file_in_it_are_not_embedded_again(store: EdgeStore, corpus: Path) -> None:
    roots = [corpus, corpus / "notes.txt"]
    ingest = Ingestor(store, Counting(), collection="c", chunk_tokens=40, chunk_overlap=8)
    first = ingest.run(roots)
    again = Ingestor(store, Counting(), collection="c", chunk_tokens=40, chunk_overlap=8)
    second = again.run(roots)
    assert first.files_indexed == 7
    assert second.chunks_embedded == 0 and second.files_indexed == 0


def test_an_explicitly_named_unsupported_file_is_an_error(store: EdgeStore, corpus: Path) -> None:
    with pytest.raises(UserInputError, match=r"unsupported file type '\.png'"):
        _ingest(store, Counting(), corpus / "image.png")
    assert "c" not in store.collections()


class FailingStore(EdgeStore):
    """An embedded store whose second write fails, as a full disk would."""

    writes = 0

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        self.writes += 1
        if self.writes == 2:
            raise BackendError("embedded vector store failed: no space left on device")
        super().upsert(collection, points)


def test_a_failed_write_stops_the_ingest_and_keeps_earlier_batches(
    tmp_path: Path, corpus: Path
) -> None:
    store = FailingStore(tmp_path / "vectors")
    emb = Counting()
    with pytest.raises(BackendError, match="no space left"):
        _ingest(store, emb, corpus, batch_size=2)
    assert store.count("c") == 2  # the first batch, written while the second was embedded
    assert emb.calls <= 3  # writes run at most one batch behind the embedder

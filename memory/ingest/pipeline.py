"""Incremental, resumable ingestion: walk → load and chunk (thread) → embed → upsert (thread).

Each batch is written by a second background thread while the next one is embedded.

A file is up to date when the store holds exactly its ``n_chunks`` chunks, all with its current
fingerprint; those are never re-embedded. A changed file's new chunks are written first and its
stale ones deleted after, so an interrupted run leaves every file either old, new or mixed in a
way the next run detects and repairs. Files gone from disk lose their chunks.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autan.memory.embeddings import Embedder
from autan.memory.ingest.chunker import chunk_document, context_text
from autan.memory.ingest.documents import Skip
from autan.memory.ingest.files import DEFAULT_EXCLUDES, Candidate, fingerprint, resolve_roots, walk
from autan.memory.ingest.loaders import load
from autan.memory.ingest.progress import Reporter, Silent
from autan.memory.vectorstore import Filter, Point, VectorStore


@dataclass
class IngestReport:
    """What one ingest did; ``chunks_embedded == 0`` on an unchanged tree."""

    collection: str
    files_seen: int = 0
    files_indexed: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    chunks_embedded: int = 0
    chunks_removed: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``files_skipped`` is the count)."""
        return {**asdict(self), "files_skipped": len(self.skipped)}


@dataclass
class _Stored:
    fingerprints: Counter[str] = field(default_factory=Counter)
    n_chunks: int = -1
    ids: set[str] = field(default_factory=set)

    def current(self, fp: str) -> bool:
        return set(self.fingerprints) == {fp} and self.fingerprints[fp] == self.n_chunks


@dataclass
class _Job:
    candidate: Candidate
    points: list[Point] = field(default_factory=list)
    skip: str | None = None


def stored_state(store: VectorStore, collection: str, roots: Sequence[str]) -> dict[str, _Stored]:
    """Per source under ``roots``: its chunk ids, fingerprints and expected chunk count."""
    state: dict[str, _Stored] = {}
    for root in roots:
        for point_id, payload in store.scan(collection, Filter(path_prefix=root)):
            entry = state.setdefault(str(payload.get("source")), _Stored())
            if point_id in entry.ids:
                continue  # a file also under another root (a folder and a file in it)
            entry.ids.add(point_id)
            entry.fingerprints[str(payload.get("file_hash"))] += 1
            entry.n_chunks = int(payload.get("n_chunks", -1))
    return state


def prepare_file(
    job: Candidate, data: bytes, fp: str, tags: Sequence[str], sizes: tuple[int, int]
) -> _Job:
    """Load and chunk one file into points without vectors; ``Skip`` if it has no text."""
    doc = load(job.path, data)
    chunks = chunk_document(doc, *sizes)
    if not chunks:
        raise Skip("no text to index")
    mtime = datetime.fromtimestamp(job.path.stat().st_mtime, tz=UTC)
    base = {
        "source": job.source,
        "title": doc.title,
        "file_hash": fp,
        "n_chunks": len(chunks),
        "date": mtime.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tags": list(tags),
    }
    points = [
        Point(
            id=f"{job.source}#{fp}#{c.ordinal}",
            vector=(),
            text=c.text,
            index_text=context_text(doc.title, c),
            payload={
                **base,
                "heading_path": list(c.heading_path),
                "start": c.start,
                "end": c.end,
                "ordinal": c.ordinal,
                "chunk_hash": c.content_hash,
            },
        )
        for c in chunks
    ]
    return _Job(job, points)


class _Writer:
    """Runs store writes in order on one thread, at most one behind the caller.

    Embedding the next batch then overlaps the store's upsert, BM25 and flush of this one; a
    write's error surfaces at the next ``submit`` or at ``wait``.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="autan-ingest-write")
        self._last: Future[None] | None = None

    def submit(self, write: Callable[..., None], *args: Any) -> None:
        """Queue ``write(*args)`` after the previous write has finished."""
        self.wait()
        self._last = self._pool.submit(write, *args)

    def wait(self) -> None:
        """Block until the queued write is done (re-raising its error)."""
        last, self._last = self._last, None
        if last is not None:
            last.result()

    def close(self) -> None:
        """Finish the queued write, then stop the thread."""
        try:
            self.wait()
        finally:
            self._pool.shutdown()


class Ingestor:
    """Keeps one collection in step with a set of files and folders."""

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        *,
        collection: str = "docs",
        chunk_tokens: int = 256,
        chunk_overlap: int = 32,
        batch_size: int = 128,
        excludes: Sequence[str] = DEFAULT_EXCLUDES,
        tags: Sequence[str] = (),
        reporter: Reporter | None = None,
    ) -> None:
        self.store, self.embedder, self.collection = store, embedder, collection
        self.sizes = (chunk_tokens, chunk_overlap)
        self.batch_size = max(1, batch_size)
        self.excludes, self.tags = tuple(excludes), tuple(tags)
        self.reporter = reporter or Silent()

    def run(self, paths: Sequence[Path | str]) -> IngestReport:
        """Index what changed under ``paths``; the store is untouched if the input is bad."""
        started = time.perf_counter()
        roots = resolve_roots(paths)
        self.store.ensure_collection(self.collection, self.embedder.dim, self.embedder.name)
        report = IngestReport(self.collection)
        state = stored_state(self.store, self.collection, [r.as_posix() for r in roots])
        todo = self._plan(roots, state, report)
        self.reporter.start(len(todo))
        try:
            self._index(todo, state, report)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            self.reporter.stop()
            report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _plan(
        self, roots: list[Path], state: dict[str, _Stored], report: IngestReport
    ) -> list[Candidate]:
        todo: list[Candidate] = []
        present: set[str] = set()
        for cand in walk(roots, self.excludes):
            report.files_seen += 1
            if cand.skip is not None:
                report.skipped.append({"path": cand.source, "reason": cand.skip})
                continue
            present.add(cand.source)
            stored = state.get(cand.source)
            try:
                data = cand.path.read_bytes()
            except OSError as exc:
                report.skipped.append(
                    {"path": cand.source, "reason": f"unreadable: {exc.strerror}"}
                )
                continue
            if stored is not None and stored.current(fingerprint(data, *self.sizes)):
                report.files_unchanged += 1
            else:
                todo.append(cand)
        for source in sorted(set(state) - present):
            report.chunks_removed += self.store.delete(self.collection, source=source)
            report.files_removed += 1
        return todo

    def _produce(self, todo: list[Candidate], out: queue.Queue[Any], stop: threading.Event) -> None:
        try:
            for cand in todo:
                if stop.is_set():
                    return
                try:
                    data = cand.path.read_bytes()
                    job = prepare_file(
                        cand, data, fingerprint(data, *self.sizes), self.tags, self.sizes
                    )
                except Skip as skip:
                    job = _Job(cand, skip=skip.reason)
                except OSError as exc:
                    job = _Job(cand, skip=f"unreadable: {exc.strerror or exc}")
                out.put(job)
            out.put(None)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consuming thread
            out.put(exc)

    def _jobs(self, todo: list[Candidate]) -> Iterator[_Job]:
        jobs: queue.Queue[Any] = queue.Queue(maxsize=64)
        stop = threading.Event()
        worker = threading.Thread(target=self._produce, args=(todo, jobs, stop), daemon=True)
        worker.start()
        try:
            while (item := jobs.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()

    def _index(
        self, todo: list[Candidate], state: dict[str, _Stored], report: IngestReport
    ) -> None:
        buffer: list[tuple[_Job, Point]] = []
        remaining: dict[str, int] = {}
        writer = _Writer()
        try:
            for job in self._jobs(todo):
                if job.skip is not None:
                    writer.submit(self._skipped, job, state, report)
                    continue
                remaining[job.candidate.source] = len(job.points)
                buffer += [(job, p) for p in job.points]
                while len(buffer) >= self.batch_size:
                    self._flush(writer, buffer[: self.batch_size], remaining, state, report)
                    buffer = buffer[self.batch_size :]
            if buffer:
                self._flush(writer, buffer, remaining, state, report)
        finally:
            writer.close()

    def _skipped(self, job: _Job, state: dict[str, _Stored], report: IngestReport) -> None:
        source = job.candidate.source
        report.skipped.append({"path": source, "reason": str(job.skip)})
        if source in state:
            report.chunks_removed += self.store.delete(self.collection, source=source)
        self.reporter.advance(1, 0)

    def _flush(
        self,
        writer: _Writer,
        batch: list[tuple[_Job, Point]],
        remaining: dict[str, int],
        state: dict[str, _Stored],
        report: IngestReport,
    ) -> None:
        vectors = self.embedder.embed([p.index_text or p.text for _, p in batch])
        points = [
            Point(p.id, v, p.text, p.payload, p.index_text)
            for (_, p), v in zip(batch, vectors, strict=True)
        ]
        writer.submit(self._write, batch, points, remaining, state, report)

    def _write(
        self,
        batch: list[tuple[_Job, Point]],
        points: list[Point],
        remaining: dict[str, int],
        state: dict[str, _Stored],
        report: IngestReport,
    ) -> None:
        self.store.upsert(self.collection, points)
        report.chunks_embedded += len(points)
        finished = 0
        for job, _ in batch:
            source = job.candidate.source
            remaining[source] -= 1
            if remaining[source] == 0:
                finished += 1
                self._finish(job, state.get(source), report)
        self.reporter.advance(finished, len(points))

    def _finish(self, job: _Job, stored: _Stored | None, report: IngestReport) -> None:
        report.files_indexed += 1
        if stored is not None:
            stale = stored.ids - {p.id for p in job.points}
            if stale:
                report.chunks_removed += self.store.delete(self.collection, ids=sorted(stale))

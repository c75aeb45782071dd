"""Ingestion throughput vs pure embedding throughput of the same texts (goal: >= 90%).

Anchor: MiniLM embedding the exact chunk texts the pipeline produces, in the same batches, with
nothing else running. Second anchor: the same texts embedded by torch fp32 (``minilm@torch``,
the runtime before ONNX), for the "ingest >= 3x torch fp32" goal. Measured: ``autan ingest``
of the whole Python 3.11 docs into a fresh embedded store (HTML extraction, chunking, BM25,
upserts included), then a second, unchanged ingest. Caches the chunks and vectors for
retrieval_latency.py and retrieval_eval.py.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from autan.config import load_settings  # noqa: E402
from autan.memory.embeddings import load_embedder  # noqa: E402
from autan.memory.ingest.documents import Skip  # noqa: E402
from autan.memory.ingest.files import fingerprint, walk  # noqa: E402
from autan.memory.ingest.pipeline import Ingestor, prepare_file  # noqa: E402
from autan.memory.ingest.progress import RichReporter  # noqa: E402
from autan.memory.vectorstore import open_store  # noqa: E402
from benchmarks._report import report  # noqa: E402
from benchmarks._retrieval_data import BENCH_DIR, CHUNKS, VECTORS, python_docs  # noqa: E402

SAMPLE_EVERY = 25
SAMPLE_MAX = 320


class Recording:
    """Wraps the embedder and keeps every (text, vector) it makes, for the latency benchmark."""

    def __init__(self, inner):  # type: ignore[no-untyped-def]
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.texts: list[str] = []
        self.vectors: list[list[float]] = []

    def embed(self, texts):  # type: ignore[no-untyped-def]
        vectors = self.inner.embed(texts)
        self.texts += list(texts)
        self.vectors += vectors
        return vectors

    def embed_query(self, text):  # type: ignore[no-untyped-def]
        return self.inner.embed_query(text)


def sample_texts(docs, sizes, every):  # type: ignore[no-untyped-def]
    """Chunk texts of every ``every``-th file, exactly as the pipeline makes them."""
    texts = []
    for i, cand in enumerate(walk([docs])):
        if i % every:
            continue
        data = cand.path.read_bytes()
        try:
            job = prepare_file(cand, data, fingerprint(data, *sizes), (), sizes)
        except Skip:
            continue
        texts += [p.index_text for p in job.points]
    return texts


def anchor_rate(embedder, texts, batch):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    for start in range(0, len(texts), batch):
        embedder.embed(texts[start : start + batch])
    return len(texts) / (time.perf_counter() - t0)


def main() -> None:
    docs = python_docs()
    settings = load_settings(data_dir=BENCH_DIR / "data")
    cfg = settings.retrieval
    sizes = (cfg.chunk_tokens, cfg.chunk_overlap)
    batch = cfg.embed_batch * 4
    embedder = load_embedder(cfg.embedder)
    embedder.embed(["warm up the model"] * 8)
    sample = sample_texts(docs, sizes, every=SAMPLE_EVERY)[:SAMPLE_MAX]
    before = anchor_rate(embedder, sample, batch)

    shutil.rmtree(settings.data_dir / "vectors", ignore_errors=True)
    store = open_store(settings)
    recording = Recording(embedder)
    kwargs = {
        "collection": "pydocs",
        "chunk_tokens": sizes[0],
        "chunk_overlap": sizes[1],
        "batch_size": batch,
    }
    first = Ingestor(store, recording, reporter=RichReporter(), **kwargs).run([docs])
    after = anchor_rate(embedder, sample, batch)
    second = Ingestor(store, embedder, **kwargs).run([docs])
    store.close()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    np.save(VECTORS, np.asarray(recording.vectors, dtype=np.float32))
    CHUNKS.write_text("".join(json.dumps({"index_text": t}) + "\n" for t in recording.texts))

    anchor = (before + after) / 2
    torch_rate = anchor_rate(load_embedder("minilm@torch"), sample, batch)
    rate = first.chunks_embedded / first.seconds
    rows = [
        ["pure embedding, torch fp32", f"{len(sample)}", "-", f"{torch_rate:.2f}", "-", "1.00"],
        ["pure embedding (anchor)", f"{len(sample)} x2", "-", f"{anchor:.2f}", "1.00",
         f"{anchor / torch_rate:.2f}"],
        ["autan ingest, fresh", first.chunks_embedded, f"{first.seconds:.0f}", f"{rate:.2f}",
         f"{rate / anchor:.2f}", f"{rate / torch_rate:.2f}"],
        ["autan ingest, unchanged", second.chunks_embedded, f"{second.seconds:.1f}", "-", "-", "-"],
    ]  # fmt: skip
    report(
        "Retrieval: ingestion vs pure embedding throughput",
        ["run", "chunks embedded", "seconds", "chunks/s", "ratio to anchor", "vs torch fp32"],
        rows,
        script="benchmarks/retrieval_ingest.py",
        notes=(
            f"Corpus: Python 3.11 HTML docs (Debian python3.11-doc): {first.files_seen} files, "
            f"{len(first.skipped)} skipped, {first.chunks_embedded} chunks; embedder "
            f"{embedder.name}, {sizes[0]}-token chunks, {sizes[1]} overlap, batches of {batch}. "
            f"Anchor: the first {len(sample)} chunk texts (as the pipeline makes them) of every "
            f"{SAMPLE_EVERY}th file, embedded alone, before ({before:.2f}/s) and after "
            f"({after:.2f}/s) the ingest, averaged. "
            "Ingestion overlaps HTML extraction and chunking (a background thread) with "
            "embedding. Goals: ratio >= 0.90; >= 3x torch fp32 (embedding the same sample, "
            "after the ingest)."
        ),
    )


if __name__ == "__main__":
    main()

"""End-to-end ingest throughput per embedder profile against torch fp32, in one run.

Anchor: ``autan ingest`` of the Python 3.11 HTML docs with MiniLM in torch fp32 (the runtime
before ONNX). Each profile ingests the same files into its own fresh embedded store (HTML
extraction, chunking, BM25, upserts included) and embeds a fixed sample of the same chunk texts
alone ("pure embedding"), so the table shows both the speed-up over the anchor (goal >= 3x for
the default profile) and what the pipeline costs beside the embedder (goal: ingest >= 0.90 of
pure embedding). The default profile's full run also caches the chunks and vectors for
retrieval_latency.py and retrieval_eval.py, and re-ingests the unchanged tree.

    python benchmarks/retrieval_ingest.py [--every N]   # N > 1: every N-th file only (quick)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from autan.config import load_settings  # noqa: E402
from autan.memory.embeddings import DEFAULT_RUNTIME, load_embedder  # noqa: E402
from autan.memory.ingest.files import walk  # noqa: E402
from autan.memory.ingest.pipeline import Ingestor  # noqa: E402
from autan.memory.vectorstore import open_store  # noqa: E402
from benchmarks._report import report  # noqa: E402
from benchmarks._retrieval_data import BENCH_DIR, CHUNKS, VECTORS, python_docs  # noqa: E402

PROFILES = [
    ("torch fp32 (anchor)", "minilm@torch"),
    ("ONNX Runtime fp32", "minilm@onnx"),
    ("ONNX Runtime int8", "minilm@onnx-int8"),
    ("ONNX Runtime int8 v2 (plain layer norms and GELU)", "minilm@onnx-int8-v2"),
    ("model2vec, 256-d (opt-in fast)", "minilm@fast"),
]
DEFAULT = f"minilm@{DEFAULT_RUNTIME}"
SAMPLE = 192
CACHE = BENCH_DIR / "models"


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


def pure_rate(embedder, texts, batch):  # type: ignore[no-untyped-def]
    """Chunks/s of the embedder alone on ``texts``, in the pipeline's batches."""
    t0 = time.perf_counter()
    for start in range(0, len(texts), batch):
        embedder.embed(texts[start : start + batch])
    return len(texts) / (time.perf_counter() - t0)


def ingest(
    spec: str, embedder: Any, paths: list[Path], kwargs: dict[str, Any], keep: bool
) -> dict[str, Any]:
    """One fresh ingest into the profile's own store: wall and process CPU seconds.

    ``keep``: the store stays in the bench dir's ``data`` for retrieval_eval.py.
    """
    data = BENCH_DIR / ("data" if keep else f"ingest-{spec.replace('@', '-')}")
    settings = load_settings(data_dir=data)
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    store = open_store(settings)
    t0, c0 = time.perf_counter(), time.process_time()
    first = Ingestor(store, embedder, **kwargs).run(paths)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    second = Ingestor(store, embedder, **kwargs).run(paths) if spec == DEFAULT else None
    store.close()
    if not keep:
        shutil.rmtree(settings.data_dir, ignore_errors=True)
    return {"report": first, "wall": wall, "cpu": cpu, "again": second}


def measure(paths: list[Path], kwargs: dict[str, Any], record: bool) -> dict[str, dict[str, Any]]:
    """Each profile's ingest, then its pure-embedding rate on the anchor's first chunk texts."""
    out: dict[str, dict[str, Any]] = {}
    sample: list[str] = []
    for _, spec in PROFILES:
        embedder = load_embedder(spec, CACHE)
        embedder.embed(["warm up the model"] * 8)
        recording = Recording(embedder)
        keep = record and spec == DEFAULT
        out[spec] = ingest(spec, recording, paths, kwargs, keep)
        sample = sample or recording.texts[:: max(1, len(recording.texts) // SAMPLE)][:SAMPLE]
        out[spec]["pure"] = pure_rate(embedder, sample, kwargs["batch_size"])
        if keep:
            np.save(VECTORS, np.asarray(recording.vectors, dtype=np.float32))
            lines = [json.dumps({"index_text": t}) + "\n" for t in recording.texts]
            CHUNKS.write_text("".join(lines), encoding="utf-8")
        print(spec, {k: v for k, v in out[spec].items() if k != "again"}, flush=True)
    return out


def rows(runs: dict[str, dict[str, Any]]) -> list[list[Any]]:
    """The table: per profile, ingest rate and CPU against the anchor, and vs pure embedding."""
    anchor = runs[PROFILES[0][1]]
    n = anchor["report"].chunks_embedded
    a_rate, a_cpu = n / anchor["wall"], 1000 * anchor["cpu"] / n
    table = []
    for label, spec in PROFILES:
        r = runs[spec]
        chunks = r["report"].chunks_embedded
        rate, cpu = chunks / r["wall"], 1000 * r["cpu"] / chunks
        name = f"{label}, default" if spec == DEFAULT else label
        table.append([name, f"`{spec}`", chunks, f"{r['wall']:.0f}", f"{rate:.1f}",
                      f"{rate / a_rate:.2f}x", f"{cpu:.1f}", f"{a_cpu / cpu:.2f}x",
                      f"{r['pure']:.1f}", f"{rate / r['pure']:.2f}"])  # fmt: skip
    again = runs[DEFAULT]["again"]
    table.append([f"{DEFAULT}, unchanged re-ingest", "", again.chunks_embedded,
                  f"{again.seconds:.1f}", "-", "-", "-", "-", "-", "-"])  # fmt: skip
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1, help="ingest every N-th file only")
    args = parser.parse_args()
    docs = python_docs()
    every = max(1, args.every)
    files = [c.path for i, c in enumerate(walk([docs])) if i % every == 0 and c.skip is None]
    paths = [docs] if every == 1 else files
    cfg = load_settings().retrieval
    kwargs = {"collection": "pydocs", "chunk_tokens": cfg.chunk_tokens,
              "chunk_overlap": cfg.chunk_overlap, "batch_size": cfg.embed_batch * 4}  # fmt: skip
    load_start = os.getloadavg()[0]
    runs = measure(paths, kwargs, record=every == 1)
    subset = "all" if every == 1 else f"every {every}th file:"
    report(
        "Retrieval: end-to-end ingest throughput by embedder profile",
        ["profile", "spec", "chunks", "ingest s", "chunks/s", "vs anchor", "CPU ms/chunk",
         "less CPU than anchor", "pure embedding chunks/s", "ingest / pure embedding"],
        rows(runs),
        script="benchmarks/retrieval_ingest.py" + (f" --every {every}" if every > 1 else ""),
        notes=(
            f"Corpus: Python 3.11 HTML docs (Debian python3.11-doc), {subset} {len(files)} files; "
            f"{kwargs['chunk_tokens']}-token chunks, {kwargs['chunk_overlap']} overlap, batches "
            f"of {kwargs['batch_size']}; each profile ingests into a fresh embedded store, one "
            "after another (not interleaved). CPU ms/chunk: process CPU time (all threads) of "
            "the whole ingest per chunk, which a busy machine distorts far less than wall time. "
            f"Pure embedding: {SAMPLE} of the same chunk texts embedded alone after the ingest. "
            "Ingestion overlaps HTML extraction and chunking (one thread) and store writes "
            "(another) with embedding. Dev-set quality per profile: \"Embedders: dev-set "
            "quality by runtime\". Goals: the default profile >= 3x the anchor with hybrid "
            "nDCG@10 within 0.01; ingest >= 0.90 of pure embedding. Load average at the start: "
            f"{load_start:.1f}."
        ),
    )  # fmt: skip


if __name__ == "__main__":
    main()

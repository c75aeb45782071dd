"""Hybrid query latency: the embedded default (qdrant-edge) vs qdrant-client local mode.

Same points, same queries, same k=10 hybrid (dense + BM25 prefetch, RRF) in one run. Points:
the whole Python 3.11 docs as chunked and embedded with MiniLM by retrieval_ingest.py (~15k),
and 100k synthetic chunks (Zipf words, random unit vectors). Query embedding is excluded: it
is the same model call for every backend. The 100k stores are kept for retrieval_memory.py.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from autan.memory.embeddings import load_embedder  # noqa: E402
from autan.memory.store_edge import EdgeStore  # noqa: E402
from autan.memory.store_qdrant import QdrantStore  # noqa: E402
from autan.memory.vectorstore import Point, VectorStore  # noqa: E402
from benchmarks._report import report  # noqa: E402
from benchmarks._retrieval_data import BENCH_DIR, load_cached, query_texts, synthetic  # noqa: E402

QUERIES = 200
SLOW_QUERIES = 12  # qdrant-client local mode takes seconds per query at 100k


def open_backend(kind: str, path: Path) -> VectorStore:
    shutil.rmtree(path, ignore_errors=True)
    return EdgeStore(path) if kind == "embedded" else QdrantStore(path=path)


def build(store: VectorStore, rows: list[dict[str, Any]], vectors: np.ndarray) -> float:
    t0 = time.perf_counter()
    store.ensure_collection("bench", vectors.shape[1], "bench")
    for start in range(0, len(rows), 2048):
        part = rows[start : start + 2048]
        store.upsert(
            "bench",
            [
                Point(
                    str(start + i),
                    vectors[start + i].tolist(),
                    r["index_text"],
                    r.get("payload", {}),
                )
                for i, r in enumerate(part)
            ],
        )
    return time.perf_counter() - t0


def measure(store: VectorStore, queries: list[tuple[list[float], str]]) -> tuple[float, float]:
    store.search("bench", vector=queries[0][0], text=queries[0][1], k=10)  # warm caches
    times = []
    for vector, text in queries:
        t0 = time.perf_counter()
        store.search("bench", vector=vector, text=text, k=10)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def scenario(
    label: str,
    rows: list[dict[str, Any]],
    vectors: np.ndarray,
    queries: list[tuple[list[float], str]],
    keep: bool,
) -> list[list[Any]]:
    out: list[list[Any]] = []
    anchor = None
    for kind in ("embedded", "qdrant-client local"):
        path = BENCH_DIR / f"latency-{label}-{kind.split()[0]}"
        store = open_backend(kind, path)
        seconds = build(store, rows, vectors)
        n = QUERIES if kind == "embedded" else (30 if len(rows) < 50_000 else SLOW_QUERIES)
        p50, p95 = measure(store, queries[:n])
        store.close()
        if not keep:
            shutil.rmtree(path, ignore_errors=True)
        anchor = anchor or p50
        out.append(
            [
                label,
                kind,
                len(rows),
                f"{seconds:.0f}",
                n,
                f"{p50:.2f}",
                f"{p95:.2f}",
                f"{p50 / anchor:.1f}x",
            ]
        )
        print(out[-1], flush=True)
    return out


HEADERS = ["corpus", "backend", "points", "build s", "queries", "p50 ms", "p95 ms", "vs embedded"]
NOTES = (
    "k=10 hybrid search (dense prefetch + BM25 prefetch, each max(50, 4k) deep, fused with RRF "
    "k=60), payload returned, query embedding excluded; both backends persist to a directory. "
    f"qdrant-client local mode runs 30 queries at 15k and {SLOW_QUERIES} at 100k (each takes up "
    "to seconds), the embedded store {QUERIES}. Goal: embedded p50 <= 20 ms at ~15k chunks."
).replace("{QUERIES}", str(QUERIES))


def python_docs_run() -> None:
    rows, vectors = load_cached()
    texts = query_texts(QUERIES)
    qvecs = load_embedder("minilm").embed(texts)
    table = scenario("Python docs", rows, vectors, list(zip(qvecs, texts, strict=True)), False)
    report(
        "Retrieval: hybrid query latency at ~15k chunks (Python docs)",
        HEADERS,
        table,
        script="benchmarks/retrieval_latency.py docs",
        notes=NOTES + " Points: MiniLM vectors of the real chunks; queries: the dev-set questions.",
    )


def synthetic_run() -> None:
    rows, vectors = synthetic(100_000, 384)
    rng = np.random.default_rng(11)
    queries = []
    for i in range(QUERIES):
        words = " ".join(f"w{int(w)}" for w in rng.zipf(1.3, size=4) if w < 30000)
        queries.append((vectors[(i * 7919) % len(rows)].tolist(), words or "w1"))
    report(
        "Retrieval: hybrid query latency at 100k chunks (synthetic)",
        HEADERS,
        scenario("synthetic", rows, vectors, queries, True),
        script="benchmarks/retrieval_latency.py synthetic",
        notes=NOTES + " Points: ~120 Zipf-distributed words and a random unit vector each.",
    )


if __name__ == "__main__":
    which = sys.argv[1:] or ["docs", "synthetic"]
    if "docs" in which:
        python_docs_run()
    if "synthetic" in which:
        synthetic_run()

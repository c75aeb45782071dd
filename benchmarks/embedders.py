"""Embedding runtimes side by side against torch fp32 (the anchor), in one run.

speed:   chunks/s on a fixed sample of real Python-docs chunks (rounds interleaved, median), and
         the load time of each runtime in a fresh process (import + load + one query).
quality: nDCG@10, Recall@5 and MRR on the dev set (benchmarks/data/python_docs_queries.jsonl)
         over a sub-corpus: every chunk holding a gold passage plus a fixed random sample of
         the other chunks as distractors (the full corpus takes ~25 min per runtime on two
         quiet cores); vectors are cached per runtime in the bench dir.
The default runtime is the fastest whose hybrid nDCG@10 is within 0.01 of the anchor.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from autan.memory.embeddings import DEFAULT_RUNTIME, Embedder, load_embedder  # noqa: E402
from autan.memory.evaluation import evaluate, load_queries, matches  # noqa: E402
from autan.memory.store_edge import EdgeStore  # noqa: E402
from autan.memory.vectorstore import Hit, Point  # noqa: E402
from benchmarks._report import report  # noqa: E402
from benchmarks._retrieval_data import (  # noqa: E402
    BENCH_DIR,
    QUERIES,
    corpus_chunks,
)

VARIANTS = [
    ("torch fp32 (anchor)", "minilm@torch"),
    ("ONNX Runtime fp32", "minilm@onnx"),
    ("ONNX Runtime int8 (dynamic, per channel)", "minilm@onnx-int8"),
    ("ONNX Runtime int8 v2 (same, plain layer norms and GELU)", "minilm@onnx-int8-v2"),
    ("torch int8 (dynamic)", "minilm@torch-int8"),
    ("model2vec, 256-d (opt-in fast)", "minilm@fast"),
]
SPEED_CHUNKS, ROUNDS, LOADS, DISTRACTORS = 192, 3, 3, 800
# The store's reciprocal-rank fusion breaks ties in no fixed order, so one hybrid evaluation of
# the same vectors moves by up to ~0.008 nDCG@10 from run to run: hybrid scores are the mean
# of this many evaluations (dense search is deterministic).
HYBRID_REPEATS = 10
CACHE = BENCH_DIR / "models"
PROBE = (
    "import sys, time; t = time.perf_counter()\n"
    "from pathlib import Path\n"
    "from autan.memory.embeddings import load_embedder\n"
    "e = load_embedder(sys.argv[1], Path(sys.argv[2])); e.embed_query('how to sort a list')\n"
    "print(time.perf_counter() - t, 'torch' in sys.modules)\n"
)


def quality_corpus(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Chunks holding a gold passage, plus ``DISTRACTORS`` others drawn with a fixed seed."""
    queries = load_queries(QUERIES)

    def is_gold(r: dict[str, Any]) -> bool:
        hit = Hit(r["id"], 0.0, r["text"], r["payload"])
        return any(matches(hit, g) for q in queries for g in q.gold)

    gold = [r for r in rows if is_gold(r)]
    others = [r for r in rows if not is_gold(r)]
    picks = np.random.default_rng(16).choice(len(others), DISTRACTORS, replace=False)
    return gold + [others[i] for i in sorted(picks)], len(gold)


def speed_sample(rows: list[dict[str, Any]]) -> list[str]:
    """Every n-th chunk text of the corpus, ``SPEED_CHUNKS`` of them."""
    step = max(1, len(rows) // SPEED_CHUNKS)
    return [r["index_text"] for r in rows[::step][:SPEED_CHUNKS]]


def speeds(
    embedders: dict[str, Embedder], texts: list[str]
) -> tuple[dict[str, float], dict[str, float]]:
    """Chunks/s and CPU ms per chunk (all threads) per runtime: medians of interleaved rounds.

    CPU time per chunk hardly moves when other processes share the cores; wall time does.
    """
    times: dict[str, list[float]] = {spec: [] for spec in embedders}
    cpu: dict[str, list[float]] = {spec: [] for spec in embedders}
    for e in embedders.values():
        e.embed(texts[:16])
    for _ in range(ROUNDS):
        for spec, e in embedders.items():
            t0, c0 = time.perf_counter(), time.process_time()
            e.embed(texts)
            times[spec].append(time.perf_counter() - t0)
            cpu[spec].append(time.process_time() - c0)
    rates = {spec: len(texts) / statistics.median(t) for spec, t in times.items()}
    return rates, {spec: 1000 * statistics.median(c) / len(texts) for spec, c in cpu.items()}


def load_time(spec: str) -> tuple[float, bool]:
    """Median seconds to import, load and embed one query in a fresh process; torch imported?"""
    runs = []
    for _ in range(LOADS):
        out = subprocess.run(
            [sys.executable, "-c", PROBE, spec, str(CACHE)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        runs.append((float(out[-2]), out[-1] == "True"))
    return statistics.median(r[0] for r in runs), runs[0][1]


def vectors_for(spec: str, embedder: Embedder, rows: list[dict[str, Any]]) -> np.ndarray:
    """The runtime's vectors of the quality corpus, cached in the bench dir."""
    path = BENCH_DIR / f"vectors-{spec.replace('@', '-')}-{len(rows)}.npy"
    if path.exists():
        return np.load(path)
    t0 = time.perf_counter()
    vectors = np.asarray(embedder.embed([r["index_text"] for r in rows]), dtype=np.float32)
    print(f"{spec}: {len(rows)} chunks in {time.perf_counter() - t0:.0f} s", flush=True)
    np.save(path, vectors)
    return vectors


def quality(spec: str, embedder: Embedder, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Dev-set metrics (dense and hybrid) of one runtime over the quality corpus."""
    vectors = vectors_for(spec, embedder, rows)
    root = BENCH_DIR / "embedders-eval"
    shutil.rmtree(root, ignore_errors=True)
    store = EdgeStore(root)
    store.ensure_collection("eval", embedder.dim, embedder.name)
    points = [
        Point(r["id"], v.tolist(), r["text"], r["payload"], r["index_text"])
        for r, v in zip(rows, vectors, strict=True)
    ]
    store.upsert("eval", points)
    queries = load_queries(QUERIES)
    results = evaluate(store, embedder, "eval", queries, ("dense",))
    runs = [
        evaluate(store, embedder, "eval", queries, ("hybrid",))["hybrid"]
        for _ in range(HYBRID_REPEATS)
    ]
    results["hybrid"] = {m: statistics.mean(r[m] for r in runs) for m in runs[0]}
    store.close()
    shutil.rmtree(root, ignore_errors=True)
    return {"results": results, "vectors": vectors}


def quality_rows(rows: list[dict[str, Any]]) -> tuple[list[list[Any]], dict[str, float]]:
    """The quality table and each runtime's hybrid nDCG@10 change against the anchor."""
    out, deltas, anchor = [], {}, None
    for label, spec in VARIANTS:
        q = quality(spec, load_embedder(spec, CACHE), rows)
        if anchor is None:
            anchor = q
        r, a = q["results"], anchor["results"]
        same_dim = q["vectors"].shape == anchor["vectors"].shape
        cos = np.sum(q["vectors"] * anchor["vectors"], axis=1) if same_dim else None
        deltas[spec] = r["hybrid"]["ndcg@10"] - a["hybrid"]["ndcg@10"]
        out.append([
            label,
            f"{cos.mean():.4f} / {cos.min():.4f}" if cos is not None else "-",
            f"{r['hybrid']['ndcg@10']:.3f} ({deltas[spec]:+.3f})",
            f"{r['dense']['ndcg@10']:.3f} ({r['dense']['ndcg@10'] - a['dense']['ndcg@10']:+.3f})",
            f"{r['hybrid']['recall@5']:.3f}",
            f"{r['hybrid']['mrr']:.3f}",
        ])  # fmt: skip
        print(out[-1], flush=True)
    return out, deltas


def speed_rows(rows: list[dict[str, Any]]) -> tuple[list[list[Any]], dict[str, float]]:
    """The speed table and each runtime's speed-up over the anchor."""
    texts = speed_sample(rows)
    embedders = {spec: load_embedder(spec, CACHE) for _, spec in VARIANTS}
    rates, cpu = speeds(embedders, texts)
    anchor, anchor_cpu = rates[VARIANTS[0][1]], cpu[VARIANTS[0][1]]
    table, ratios = [], {}
    for label, spec in VARIANTS:
        seconds, torch_loaded = load_time(spec)
        ratios[spec] = rates[spec] / anchor
        table.append([label, f"`{spec}`", f"{rates[spec]:.1f}", f"{ratios[spec]:.2f}x",
                      f"{cpu[spec]:.1f}", f"{anchor_cpu / cpu[spec]:.2f}x",
                      f"{seconds:.2f}", "yes" if torch_loaded else "no"])  # fmt: skip
        print(table[-1], flush=True)
    return table, ratios


def main(which: list[str]) -> None:
    rows = corpus_chunks()
    subset, n_gold = quality_corpus(rows)
    results: dict[str, Any] = {}
    if "quality" in which:
        table, deltas = quality_rows(subset)
        results["deltas"] = deltas
        report(
            "Embedders: dev-set quality by runtime",
            ["runtime", "cosine to anchor (mean / min)", "hybrid nDCG@10 (Δ)",
             "dense nDCG@10 (Δ)", "hybrid Recall@5", "hybrid MRR"],
            table,
            script="benchmarks/embedders.py quality",
            notes=(f"{len(load_queries(QUERIES))} dev-set questions over a {len(subset)}-chunk "
                   f"sub-corpus of the Python 3.11 docs: the {n_gold} chunks that hold a gold "
                   f"passage and {DISTRACTORS} other chunks drawn at random (seed 16), to bound "
                   f"CPU time on a shared 2-core machine (of {len(rows)} chunks in all). "
                   "Absolute scores are higher than on the full corpus; the differences between "
                   "runtimes are what this table is for. Cosine: each chunk's vector against "
                   "the anchor's. Hybrid scores: mean of "
                   f"{HYBRID_REPEATS} evaluations (fusion ties fall in no fixed order, which "
                   "moves one evaluation by up to ~0.008). Bar: |Δ hybrid nDCG@10| ≤ 0.01."),
        )  # fmt: skip
    if "speed" in which:
        table, ratios = speed_rows(rows)
        results["ratios"] = ratios
        report(
            "Embedders: throughput and load time by runtime",
            ["runtime", "spec", "chunks/s", "vs anchor", "CPU ms/chunk", "less CPU than anchor",
             "load + first query s", "imports torch"],
            table,
            script="benchmarks/embedders.py speed",
            notes=(f"{SPEED_CHUNKS} real chunks (every n-th of the Python docs, 160-token chunks "
                   f"with their headings), {ROUNDS} interleaved rounds, median; threads = cores "
                   f"available. Load: fresh process, median of {LOADS}, exported models already "
                   f"cached. CPU ms/chunk: process CPU time (all threads) per chunk, which a busy "
                   f"machine distorts far less than wall time. "
                   f"Default runtime: `minilm` = `minilm@{DEFAULT_RUNTIME}`."),
        )  # fmt: skip
    (BENCH_DIR / "embedders.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:] or ["speed", "quality"])

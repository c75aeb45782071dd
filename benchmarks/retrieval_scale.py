"""Scale check of the embedded store: upsert throughput, query latency and memory by size.

Each size runs in a fresh process that streams synthetic chunks (Zipf words over a 30k
vocabulary, random unit 384-d vectors, as retrieval_latency.py) into a new embedded collection
in batches of 2048, then answers hybrid and dense k=10 queries. Anchor: the smallest size in the
same run (latency ratios). Embedding is excluded: at ingest it costs far more than the store
(see "Embedders"), so the upsert rate here is the ceiling the store puts on ingestion.

    python benchmarks/retrieval_scale.py                 # 10k (anchor), 100k, 1M
    python benchmarks/retrieval_scale.py 2000 20000      # a quick check
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import report  # noqa: E402
from benchmarks._retrieval_data import BENCH_DIR  # noqa: E402

SIZES = (10_000, 100_000, 1_000_000)
QUERIES, WORDS, BATCH = 100, 60, 2048

PROBE = r"""
import json, resource, statistics, sys, time
from pathlib import Path
import numpy as np
from autan.memory.store_edge import EdgeStore
from autan.memory.vectorstore import Point
n, path, queries, words, batch = int(sys.argv[1]), Path(sys.argv[2]), *map(int, sys.argv[3:6])
rng = np.random.default_rng(7)
vocab = np.array([f"w{i}" for i in range(30000)])
def vectors(m):
    v = rng.standard_normal((m, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)
store = EdgeStore(path, notify=None)
store.ensure_collection("bench", 384, "bench")
t0 = time.perf_counter()
for start in range(0, n, batch):
    m = min(batch, n - start)
    ranks = np.minimum(rng.zipf(1.3, size=(m, words)) - 1, len(vocab) - 1)
    store.upsert("bench", [
        Point(str(start + i), v.tolist(), " ".join(vocab[r]), {"source": f"/s/{(start + i) % 997}"})
        for i, (v, r) in enumerate(zip(vectors(m), ranks))])
upsert_s = time.perf_counter() - t0
store.close()
t0 = time.perf_counter()
store = EdgeStore(path, notify=None)
store.count("bench")
open_s = time.perf_counter() - t0
qv = vectors(queries)
def run(mode):
    store.search("bench", vector=qv[0].tolist(), text="w1 w17", k=10, mode=mode)
    times = []
    for i in range(queries):
        text = " ".join(vocab[min(int(w) - 1, 29999)] for w in rng.zipf(1.3, size=4))
        t = time.perf_counter()
        store.search("bench", vector=qv[i].tolist(), text=text, k=10, mode=mode)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]
hybrid, dense = run("hybrid"), run("dense")
disk = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"n": n, "upsert_s": upsert_s, "open_s": open_s, "hybrid": hybrid,
                  "dense": dense, "peak_mb": peak, "disk_mb": disk}))
"""


def measure(n: int) -> dict[str, object]:
    """One size in a fresh process (so peak memory is that size's)."""
    path = BENCH_DIR / f"scale-{n}"
    shutil.rmtree(path, ignore_errors=True)
    try:
        out = subprocess.run(
            [sys.executable, "-c", PROBE, str(n), str(path), str(QUERIES), str(WORDS), str(BATCH)],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        )
    finally:
        shutil.rmtree(path, ignore_errors=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    print(result, flush=True)
    return result


def main(sizes: list[int]) -> None:
    results = [measure(n) for n in sizes]
    anchor = results[0]["hybrid"][0]  # type: ignore[index]
    rows = []
    for r in results:
        hybrid, dense = r["hybrid"], r["dense"]
        rows.append([
            f"{r['n']:,}", f"{r['n'] / r['upsert_s']:.0f}", f"{r['open_s']:.2f}",
            f"{hybrid[0]:.1f} / {hybrid[1]:.1f}", f"{hybrid[0] / anchor:.1f}x",
            f"{dense[0]:.1f} / {dense[1]:.1f}", f"{r['peak_mb']:.0f}", f"{r['disk_mb']:.0f}",
        ])  # type: ignore[index]  # fmt: skip
    report(
        "Retrieval: scale check of the embedded store",
        ["chunks", "upserts/s", "reopen s", "hybrid p50 / p95 ms", "vs smallest",
         "dense p50 / p95 ms", "peak RSS MiB", "disk MiB"],
        rows,
        script="benchmarks/retrieval_scale.py",
        notes=(f"Synthetic chunks ({WORDS} Zipf words, random unit 384-d vectors), upserted in "
               f"batches of {BATCH} into a fresh embedded (qdrant-edge) collection, embedding "
               f"excluded; {QUERIES} k=10 queries per mode after reopening; peak RSS of the "
               "whole process (generation included). The anchor is the smallest size. When to "
               "move to a Qdrant server: docs/retrieval.md (\"Scale\")."),
    )  # fmt: skip


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or list(SIZES))

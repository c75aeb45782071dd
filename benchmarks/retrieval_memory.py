"""Memory footprint at 100k chunks: the embedded default vs qdrant-client local mode.

Each backend opens the 100k-point store retrieval_latency.py left on disk in a fresh process and
answers 20 hybrid queries; the table shows resident memory above an idle interpreter that has
imported the same modules, and the size on disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import report  # noqa: E402
from benchmarks._retrieval_data import BENCH_DIR  # noqa: E402

PROBE = r"""
import json, resource, sys
import numpy as np
from autan.memory.store_edge import EdgeStore
from autan.memory.store_qdrant import QdrantStore
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
kind, path = sys.argv[1], sys.argv[2]
base = rss()
store = EdgeStore(path) if kind == "embedded" else QdrantStore(path=path)
rng = np.random.default_rng(5)
for i in range(20):
    v = rng.standard_normal(384); v /= np.linalg.norm(v)
    store.search("bench", vector=v.tolist(), text="w1 w17 w250", k=10)
print(json.dumps({"base": base, "rss": rss(), "count": store.count("bench"),
                  "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    rows = []
    for kind, folder in (("embedded", "embedded"), ("qdrant-client local", "qdrant-client")):
        path = BENCH_DIR / f"latency-synthetic-{folder}"
        if not path.exists():
            sys.exit("run benchmarks/retrieval_latency.py first (it leaves the 100k stores)")
        out = subprocess.run(
            [sys.executable, "-c", PROBE, kind.split()[0], str(path)],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": "."},
        )
        m = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(
            [
                kind,
                m["count"],
                f"{m['rss'] - m['base']:.0f}",
                f"{m['peak']:.0f}",
                f"{disk_mb(path):.0f}",
            ]
        )
    report(
        "Retrieval: memory footprint at 100k chunks",
        ["backend", "points", "RSS above idle MiB", "peak RSS MiB", "disk MiB"],
        rows,
        script="benchmarks/retrieval_memory.py",
        notes="384-d float32 vectors, ~120-word texts with BM25 sparse vectors and payloads.",
    )


if __name__ == "__main__":
    main()

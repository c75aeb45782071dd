"""Shared inputs of the retrieval benchmarks: the Python docs corpus, its cached chunks and
vectors (so MiniLM runs over the corpus once), and synthetic 100k-chunk data."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DIR = Path(os.environ.get("AUTAN_BENCH_DIR", Path.home() / ".cache" / "autan" / "bench"))
QUERIES = ROOT / "benchmarks" / "data" / "python_docs_queries.jsonl"
CHUNKS = BENCH_DIR / "pydocs_chunks.jsonl"
VECTORS = BENCH_DIR / "pydocs_vectors.npy"


def python_docs() -> Path:
    """The HTML folder of the Python 3.11 docs, fetched once with scripts/fetch_python_docs.sh."""
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "fetch_python_docs.sh")],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip().splitlines()[-1])


def load_cached() -> tuple[list[dict[str, Any]], np.ndarray]:
    """Chunks (text, index_text, payload) and their MiniLM vectors from retrieval_ingest.py."""
    if not CHUNKS.exists() or not VECTORS.exists():
        sys.exit("run benchmarks/retrieval_ingest.py first (it caches the corpus vectors)")
    rows = [json.loads(line) for line in CHUNKS.read_text(encoding="utf-8").splitlines()]
    return rows, np.load(VECTORS)


def synthetic(n: int, dim: int, seed: int = 7) -> tuple[list[dict[str, Any]], np.ndarray]:
    """``n`` chunks of Zipf-distributed words over a 30k vocabulary with random unit vectors."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    words = [f"w{i}" for i in range(30000)]
    ranks = np.minimum(rng.zipf(1.3, size=(n, 120)) - 1, len(words) - 1)
    rows = []
    for i in range(n):
        text = " ".join(words[r] for r in ranks[i])
        rows.append(
            {"text": text, "index_text": text, "payload": {"source": f"/synth/{i % 997}.txt"}}
        )
    return rows, vectors


def query_texts(n: int, seed: int = 3) -> list[str]:
    """Dev-set questions, cycled to ``n``."""
    rows = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines() if line]
    texts = [r["query"] for r in rows]
    random.Random(seed).shuffle(texts)
    return [texts[i % len(texts)] for i in range(n)]


ALL_CHUNKS = BENCH_DIR / "pydocs_all_chunks.jsonl"


def corpus_chunks() -> list[dict[str, Any]]:
    """Every chunk of the Python docs (id, text, index_text, payload) as the pipeline makes it."""
    if not ALL_CHUNKS.exists():
        from autan.config import load_settings
        from autan.memory.ingest.documents import Skip
        from autan.memory.ingest.files import fingerprint, walk
        from autan.memory.ingest.pipeline import prepare_file

        cfg = load_settings().retrieval
        sizes = (cfg.chunk_tokens, cfg.chunk_overlap)
        lines = []
        for cand in walk([python_docs()]):
            data = cand.path.read_bytes()
            try:
                job = prepare_file(cand, data, fingerprint(data, *sizes), (), sizes)
            except Skip:
                continue
            lines += [
                json.dumps(
                    {"id": p.id, "text": p.text, "index_text": p.index_text, "payload": p.payload}
                )  # fmt: skip
                for p in job.points
            ]
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        ALL_CHUNKS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [json.loads(line) for line in ALL_CHUNKS.read_text(encoding="utf-8").splitlines()]


def gold_sources() -> set[str]:
    """The doc pages (relative paths) the dev-set questions name as gold."""
    rows = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines() if line]
    return {g["source"] for r in rows for g in r["gold"]}

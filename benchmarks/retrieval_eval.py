"""Retrieval quality on the Python 3.11 docs dev set: BM25-only vs dense-only vs hybrid.

Uses the collection retrieval_ingest.py built (MiniLM, the default chunking) and the committed
questions in benchmarks/data/python_docs_queries.jsonl; the same numbers come from
``autan eval retrieval --queries benchmarks/data/python_docs_queries.jsonl``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autan.config import load_settings  # noqa: E402
from autan.memory.embeddings import load_embedder  # noqa: E402
from autan.memory.evaluation import evaluate, load_queries, table  # noqa: E402
from autan.memory.vectorstore import open_store  # noqa: E402
from benchmarks._report import report  # noqa: E402
from benchmarks._retrieval_data import BENCH_DIR, QUERIES  # noqa: E402


def main() -> None:
    settings = load_settings(data_dir=BENCH_DIR / "data")
    store = open_store(settings)
    embedder = load_embedder(settings.retrieval.embedder)
    queries = load_queries(QUERIES)
    results = evaluate(store, embedder, "pydocs", queries)
    chunks = store.count("pydocs")
    store.close()
    rows = [[m, f"{n:.3f}", f"{r:.3f}", f"{rr:.3f}"] for m, n, r, rr in table(results)]
    best = max(results, key=lambda m: results[m]["ndcg@10"])
    report(
        "Retrieval: quality on the Python docs dev set",
        ["mode", "nDCG@10", "Recall@5", "MRR"],
        rows,
        script="benchmarks/retrieval_eval.py",
        notes=(
            f"{len(queries)} questions over {chunks} chunks of the Python 3.11 docs, embedder "
            f"{embedder.name}. Gold passages are named by source file and a phrase they contain "
            "(benchmarks/data/python_docs_queries.jsonl), so they survive re-chunking. "
            f"Best nDCG@10: {best}."
        ),
    )


if __name__ == "__main__":
    main()

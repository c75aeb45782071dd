"""Retrieval evaluation: nDCG@10, Recall@5 and MRR for BM25-only, dense-only and hybrid search.

A queries file is JSON Lines: ``{"id", "query", "gold": [{"source", "phrase"}]}``. A hit matches
a gold passage when its source ends with the gold ``source`` and its text contains the gold
``phrase`` (case and whitespace folded), so gold survives re-chunking and re-ingestion.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autan.errors import UserInputError
from autan.memory.embeddings import Embedder
from autan.memory.vectorstore import Hit, SearchMode, VectorStore

MODES: dict[str, SearchMode] = {"bm25": "sparse", "dense": "dense", "hybrid": "hybrid"}


@dataclass(frozen=True)
class Gold:
    """One relevant passage: a source path suffix and a phrase inside the passage."""

    source: str
    phrase: str


@dataclass(frozen=True)
class EvalQuery:
    """A question and its gold passages."""

    id: str
    query: str
    gold: tuple[Gold, ...]


def _fold(text: str) -> str:
    """Lower case, single spaces, no Markdown emphasis or code marks."""
    return re.sub(r"\s+", " ", re.sub(r"[`*]", "", text)).strip().lower()


_QUERY_FORMAT = (
    'give one JSON object a line: {"query": ..., "gold": [{"source": ..., "phrase": ...}]}'
)


def load_queries(path: Path) -> list[EvalQuery]:
    """Parse a queries file; ``UserInputError`` naming the first bad line."""
    if not path.is_file():
        raise UserInputError(f"queries file not found: {path}", hint="check the path")
    queries = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise UserInputError(f"{path} is not UTF-8 text", hint=_QUERY_FORMAT) from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            gold = tuple(Gold(str(g["source"]), _fold(str(g["phrase"]))) for g in row["gold"])
            queries.append(EvalQuery(str(row.get("id", number)), str(row["query"]), gold))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise UserInputError(
                f"{path}:{number}: bad query line ({exc})", hint=_QUERY_FORMAT
            ) from None
    if not queries:
        raise UserInputError(f"{path} holds no queries", hint=_QUERY_FORMAT)
    return queries


def matches(hit: Hit, gold: Gold) -> bool:
    """Whether a hit is (a chunk of) the gold passage."""
    source = str(hit.payload.get("source", ""))
    same = source == gold.source or source.endswith("/" + gold.source.lstrip("/"))
    return same and gold.phrase in _fold(hit.text)


def relevant_ranks(hits: Sequence[Hit], gold: Sequence[Gold]) -> list[int]:
    """1-based rank at which each gold passage is first found (each counted once)."""
    ranks: list[int] = []
    found: set[int] = set()
    for rank, hit in enumerate(hits, 1):
        for index, g in enumerate(gold):
            if index not in found and matches(hit, g):
                found.add(index)
                ranks.append(rank)
                break
    return ranks


def scores(ranks: Sequence[int], n_gold: int) -> dict[str, float]:
    """nDCG@10, Recall@5 and reciprocal rank for one query."""
    dcg = sum(1 / math.log2(r + 1) for r in ranks if r <= 10)
    ideal = sum(1 / math.log2(r + 1) for r in range(1, min(n_gold, 10) + 1))
    return {
        "ndcg@10": dcg / ideal if ideal else 0.0,
        "recall@5": sum(1 for r in ranks if r <= 5) / n_gold if n_gold else 0.0,
        "mrr": 1 / min(ranks) if ranks else 0.0,
    }


def evaluate(
    store: VectorStore,
    embedder: Embedder,
    collection: str,
    queries: Sequence[EvalQuery],
    modes: Sequence[str] = tuple(MODES),
) -> dict[str, dict[str, float]]:
    """Mean metrics per mode over all queries (each query embedded once)."""
    totals: dict[str, dict[str, float]] = {m: {} for m in modes}
    for q in queries:
        vector = embedder.embed_query(q.query)
        for mode in modes:
            hits = store.search(collection, vector=vector, text=q.query, k=10, mode=MODES[mode])
            for name, value in scores(relevant_ranks(hits, q.gold), len(q.gold)).items():
                totals[mode][name] = totals[mode].get(name, 0.0) + value
    return {m: {k: round(v / len(queries), 4) for k, v in t.items()} for m, t in totals.items()}


def table(results: dict[str, dict[str, float]]) -> list[list[Any]]:
    """Rows of (mode, nDCG@10, Recall@5, MRR)."""
    return [[m, r["ndcg@10"], r["recall@5"], r["mrr"]] for m, r in results.items()]

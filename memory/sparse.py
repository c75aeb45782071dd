"""Local BM25 sparse vectors: our own tokenizer and hashed term ids, no model download.

Documents carry saturated, length-normalised term frequencies; queries carry 1.0 per term.
The store multiplies by IDF at query time (Qdrant's ``Modifier.IDF``), which completes BM25.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*")
K1 = 1.2
B = 0.75
AVG_LEN = 120.0

STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just me more
    most my no nor not now of off on once only or other our ours out over own same she should so
    some such than that the their theirs them then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you
    your yours""".split()
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English suffix stripper: enough to match plural and verb forms."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, repl, min_len in (
        ("sses", "ss", 5),
        ("ies", "y", 5),
        ("ing", "", 6),
        ("ed", "", 5),
        ("es", "", 5),
        ("s", "", 4),
    ):
        if word.endswith(suffix) and len(word) >= min_len:
            if suffix == "s" and word[-2] in "su":
                return word
            return word[: len(word) - len(suffix)] + repl
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed terms; dotted and snake_case names also yield their parts."""
    terms: list[str] = []
    for match in _WORD.finditer(text.lower()):
        word = match.group()
        parts = re.split(r"[._]+", word) if ("." in word or "_" in word) else []
        if len(parts) > 1:
            terms.append(word)
        for part in parts if len(parts) > 1 else [word]:
            if part and part not in STOPWORDS:
                terms.append(stem(part))
    return terms


def term_id(term: str) -> int:
    """A stable 31-bit id for a term (the same in every process and backend)."""
    return zlib.crc32(term.encode("utf-8")) & 0x7FFFFFFF


def document_vector(text: str) -> tuple[list[int], list[float]]:
    """BM25 term weights of a document, without IDF (the store applies it)."""
    counts = Counter(tokenize(text))
    length = sum(counts.values())
    norm = K1 * (1 - B + B * length / AVG_LEN)
    weights: dict[int, float] = {}
    for term, tf in counts.items():
        tid = term_id(term)
        weights[tid] = weights.get(tid, 0.0) + tf * (K1 + 1) / (tf + norm)
    return list(weights), list(weights.values())


def query_vector(text: str) -> tuple[list[int], list[float]]:
    """One unit weight per distinct query term."""
    ids = sorted({term_id(t) for t in tokenize(text)})
    return ids, [1.0] * len(ids)

"""Hashed character and word n-grams, computed with numpy for a whole batch at once.

This is the featuriser of the shipped injection classifier. Training (scripts/train_injection.py)
and scoring use the same ``ngram_keys`` so their features cannot drift apart, and scoring needs
numpy only: no vectoriser vocabulary, no pickle.

Every n-gram becomes a bucket in ``[0, 2**bits)``: character n-grams of the lower-cased,
whitespace-collapsed text, hashed with FNV-1a over code points, and word unigrams and bigrams
hashed from their CRC-32. Word buckets are offset by ``2**char_bits`` so the two blocks share one
weight vector but are L2-normalised separately, like a union of two TF-IDF vectorisers.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from autan.errors import ConfigError, missing_extra
from autan.guards.npz import load_npz, save_npz

REBUILD = "rebuild it with 'python scripts/train_injection.py'"

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]

_FNV_PRIME = np.uint64(0x100000001B3)
_FNV_BASIS = 0xCBF29CE484222325
_MIX = np.uint64(0x9E3779B97F4A7C15)
_WORD = re.compile(r"\w\w+")
_DOC_SHIFT = np.uint64(32)
FORMAT = "autan-hashed-linear-1"
MIN_DF = 2  # n-gram buckets seen in fewer training texts carry no weight


@dataclass(frozen=True)
class NgramSpec:
    """Which n-grams, and how many buckets each block hashes into."""

    char_min: int = 2
    char_max: int = 5
    char_bits: int = 18
    word_bits: int = 17

    @property
    def width(self) -> int:
        """Length of the weight vector: char buckets, then word buckets."""
        return (1 << self.char_bits) + (1 << self.word_bits)

    def as_dict(self) -> dict[str, int]:
        """For the artifact's metadata."""
        return {
            "char_min": self.char_min,
            "char_max": self.char_max,
            "char_bits": self.char_bits,
            "word_bits": self.word_bits,
        }


def normalise(text: str) -> str:
    """Lower case, runs of whitespace as one space, padded so first and last words have edges."""
    return f" {' '.join(text.lower().split())} "


def _bucket(h: U64, bits: int) -> U64:
    """Multiplicative hashing: the top ``bits`` bits of ``h * golden``."""
    out: U64 = (h * _MIX) >> np.uint64(64 - bits)
    return out


def _char_keys(texts: Sequence[str], spec: NgramSpec) -> U64:
    arrays = [
        np.frombuffer(normalise(t).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        for t in texts
    ]
    codes = np.concatenate(arrays).astype(np.uint64) if arrays else np.zeros(0, np.uint64)
    owner = np.repeat(np.arange(len(texts), dtype=np.uint64), [len(a) for a in arrays])
    keys: list[U64] = []
    h = np.full(len(codes), np.uint64(_FNV_BASIS), dtype=np.uint64)
    for n in range(1, spec.char_max + 1):
        m = len(codes) - n + 1
        if m <= 0:
            break
        # FNV-1a extended by one code point: h[i] now hashes codes[i : i + n].
        h = (h[:m] ^ codes[n - 1 : n - 1 + m]) * _FNV_PRIME
        if n >= spec.char_min:
            same = owner[:m] == owner[n - 1 : n - 1 + m]
            keys.append((owner[:m][same] << _DOC_SHIFT) | _bucket(h[same], spec.char_bits))
    return np.concatenate(keys) if keys else np.zeros(0, np.uint64)


def _word_keys(texts: Sequence[str], spec: NgramSpec) -> U64:
    crcs: list[int] = []
    owners: list[int] = []
    for doc, text in enumerate(texts):
        words = _WORD.findall(text.lower())
        crcs += [zlib.crc32(w.encode("utf-8", "surrogatepass")) for w in words]
        owners += [doc] * len(words)
    if not crcs:
        return np.zeros(0, np.uint64)
    h = np.asarray(crcs, dtype=np.uint64) + np.uint64(1)
    owner = np.asarray(owners, dtype=np.uint64)
    same = owner[:-1] == owner[1:]
    grams = np.concatenate([h * _FNV_PRIME, ((h[:-1] * _MIX) ^ (h[1:] * _FNV_PRIME))[same]])
    docs = np.concatenate([owner, owner[:-1][same]])
    offset = np.uint64(1 << spec.char_bits)
    out: U64 = (docs << _DOC_SHIFT) | (_bucket(grams, spec.word_bits) + offset)
    return out


def ngram_keys(texts: Sequence[str], spec: NgramSpec) -> tuple[I64, I64, F32]:
    """Sparse sublinear term frequencies: (row, column, 1 + log(count)) for each text's n-grams."""
    keys = np.concatenate([_char_keys(texts, spec), _word_keys(texts, spec)])
    uniq, counts = np.unique(keys, return_counts=True)
    rows = (uniq >> _DOC_SHIFT).astype(np.int64)
    cols = (uniq & np.uint64(0xFFFFFFFF)).astype(np.int64)
    tf = (1.0 + np.log(counts)).astype(np.float32)
    return rows, cols, tf


def tfidf(rows: I64, cols: I64, tf: F32, idf: F32, n_rows: int, spec: NgramSpec) -> F32:
    """``tf * idf`` with each row's char block and word block scaled to unit L2 norm."""
    values = tf * idf[cols]
    block = (cols >= (1 << spec.char_bits)).astype(np.int64)
    slot = rows * 2 + block
    norms = np.sqrt(np.bincount(slot, weights=values * values, minlength=n_rows * 2))
    scaled: F32 = (values / np.maximum(norms[slot], 1e-12)).astype(np.float32)
    return scaled


@dataclass(frozen=True)
class HashedLinear:
    """A logistic regression over hashed TF-IDF n-grams: numpy arrays and nothing else."""

    spec: NgramSpec
    idf: F32
    coef: F32
    intercept: float

    def decision(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """The logit for each text."""
        rows, cols, tf = ngram_keys(texts, self.spec)
        values = tfidf(rows, cols, tf, self.idf, len(texts), self.spec)
        dots = np.bincount(rows, weights=values * self.coef[cols], minlength=len(texts))
        out: npt.NDArray[np.float64] = dots.astype(np.float64) + self.intercept
        return out

    def scores(self, texts: Sequence[str]) -> list[float]:
        """P(injection) for each text."""
        if not texts:
            return []
        z = np.clip(self.decision(texts), -50.0, 50.0)
        return [float(p) for p in 1.0 / (1.0 + np.exp(-z))]

    def save(self, path: str | Path, **meta: object) -> None:
        """Write the model as a compressed ``.npz`` (plain arrays, loadable without pickle)."""
        save_npz(
            path,
            FORMAT,
            {**self.spec.as_dict(), **meta},
            np.float16,
            idf=self.idf,
            coef=self.coef,
            intercept=np.float32(self.intercept),
        )

    @classmethod
    def load(cls, path: str | Path) -> HashedLinear:
        """Read a model written by ``save``; refuses anything that is not one."""
        arrays, info = load_npz(path, FORMAT, ("idf", "coef", "intercept"), np.float32, REBUILD)
        try:
            spec = NgramSpec(**{k: int(str(info[k])) for k in NgramSpec().as_dict()})
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"injection model {path} has bad metadata: {exc}") from None
        if arrays["idf"].shape != (spec.width,) or arrays["coef"].shape != (spec.width,):
            raise ConfigError(f"injection model {path} has arrays of the wrong size")
        return cls(spec, arrays["idf"], arrays["coef"], float(arrays["intercept"]))


def train(
    texts: Sequence[str], labels: Sequence[int], spec: NgramSpec | None = None, c: float = 4.0
) -> HashedLinear:
    """Fit a class-balanced logistic regression on hashed TF-IDF (needs scikit-learn)."""
    try:
        from scipy.sparse import csr_matrix
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise missing_extra("guards", "scikit-learn") from None
    spec = spec or NgramSpec()
    rows, cols, tf = ngram_keys(texts, spec)
    df = np.bincount(cols, minlength=spec.width)
    n = len(texts)
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    idf[df < MIN_DF] = 0.0
    values = tfidf(rows, cols, tf, idf, n, spec)
    matrix = csr_matrix((values, (rows, cols)), shape=(n, spec.width), dtype=np.float32)
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    clf.fit(matrix, np.asarray(labels))
    return HashedLinear(spec, idf, clf.coef_[0].astype(np.float32), float(clf.intercept_[0]))

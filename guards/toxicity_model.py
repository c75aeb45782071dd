"""The toxicity rail's linear model, evaluated with NumPy alone.

alt-profanity-check ships a TF-IDF vectorizer and a sigmoid-calibrated linear SVM (five folds)
as scikit-learn pickles; unpickling them imports scikit-learn and SciPy, about 1.7 s of every
``guard check --stage output``. ``toxicity_model.npz`` holds the same arrays
(``python scripts/export_toxicity_model.py`` writes it), and the probabilities computed here are
the package's own to rounding error (tests/guards/test_toxicity_model.py compares them).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from autan.guards.npz import load_npz, save_npz

ARTIFACT = Path(__file__).with_name("toxicity_model.npz")
FORMAT = "autan-profanity-linear-1"
_ARRAYS = ("idf", "coef", "intercept", "a", "b")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # the vectorizer's token_pattern, lowercase=True

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ProfanityModel:
    """TF-IDF (l2) features, then the mean over folds of sigmoid(a * (w.x + c) + b)."""

    vocabulary: dict[str, int]
    idf: F64
    coef: F64
    intercept: F64
    a: F64
    b: F64

    def predict_prob(self, texts: Sequence[str]) -> list[float]:
        """P(offensive) for each text, as ``profanity_check.predict_prob`` gives it."""
        return [self._one(text) for text in texts]

    def _one(self, text: str) -> float:
        vocab = self.vocabulary
        counts = Counter(vocab[t] for t in _TOKEN.findall(text.lower()) if t in vocab)
        decision = self.intercept.copy()
        if counts:
            idx = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            weights = tf * self.idf[idx]
            weights /= np.sqrt(np.dot(weights, weights))
            decision += self.coef[:, idx] @ weights
        positive = 1.0 / (1.0 + np.exp(self.a * decision + self.b))
        return float(np.mean(positive / ((1.0 - positive) + positive)))


def save(path: Path, words: Sequence[str], **arrays: F64) -> None:
    """Write the model: words in feature order, the arrays as float64."""
    texts = {"words": "\n".join(words)}
    save_npz(path, FORMAT, {"words": len(words)}, np.float64, texts, **arrays)


@functools.lru_cache(maxsize=1)
def load(path: Path = ARTIFACT) -> ProfanityModel:
    """The exported model, read once per process."""
    hint = "rebuild it with 'python scripts/export_toxicity_model.py'"
    arrays, info = load_npz(path, FORMAT, _ARRAYS, np.float64, hint, texts=("words",))
    words = str(info["words"]).split("\n")
    return ProfanityModel({w: i for i, w in enumerate(words)}, **arrays)

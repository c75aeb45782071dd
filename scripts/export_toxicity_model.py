"""Export alt-profanity-check's scikit-learn model to guards/toxicity_model.npz.

The toxicity rail evaluates the exported arrays with NumPy (no scikit-learn import at check
time). Run again after upgrading alt-profanity-check:

    python scripts/export_toxicity_model.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autan.guards.toxicity_model import ARTIFACT, save  # noqa: E402


def main() -> None:
    from profanity_check import profanity_check as package

    vectorizer, model = package.vectorizer, package.model
    assert vectorizer.get_params()["ngram_range"] == (1, 1) and vectorizer.norm == "l2"
    assert vectorizer.token_pattern == r"(?u)\b\w\w+\b" and vectorizer.lowercase
    words = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    folds = model.calibrated_classifiers_
    assert all(f.method == "sigmoid" and list(f.classes) == [0, 1] for f in folds)
    save(
        ARTIFACT,
        words,
        idf=np.asarray(vectorizer.idf_, dtype=np.float64),
        coef=np.vstack([f.estimator.coef_[0] for f in folds]).astype(np.float64),
        intercept=np.array([f.estimator.intercept_[0] for f in folds], dtype=np.float64),
        a=np.array([f.calibrators[0].a_ for f in folds], dtype=np.float64),
        b=np.array([f.calibrators[0].b_ for f in folds], dtype=np.float64),
    )
    print(f"wrote {ARTIFACT} ({len(words)} words, {len(folds)} folds)")


if __name__ == "__main__":
    main()

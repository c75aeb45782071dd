"""Injection classifiers: the shipped linear model, or a hub transformer named in the policy.

Both are loaded once per process (keyed by path or model id) and score a batch of texts with
the probability that each is an injection or jailbreak.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from autan.errors import ConfigError, missing_extra

ARTIFACT = Path(__file__).with_name("injection_model.joblib")
_POSITIVE = ("injection", "jailbreak", "malicious", "unsafe", "attack", "label_1")


class InjectionModel(Protocol):
    """Anything that scores texts with P(injection)."""

    def scores(self, texts: Sequence[str]) -> list[float]:
        """One probability per text."""
        ...


class LinearModel:
    """The shipped char+word TF-IDF logistic regression (see scripts/train_injection.py)."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline

    def scores(self, texts: Sequence[str]) -> list[float]:
        """P(injection) per text."""
        if not texts:
            return []
        return [float(p) for p in self.pipeline.predict_proba(list(texts))[:, 1]]


class TransformerModel:
    """A sequence classifier such as ProtectAI's deberta-v3 prompt-injection model."""

    def __init__(self, tokenizer: Any, model: Any, max_length: int = 512) -> None:
        self.tokenizer, self.model, self.max_length = tokenizer, model, max_length
        labels = {int(i): str(n).lower() for i, n in model.config.id2label.items()}
        self.positive = [i for i, n in labels.items() if any(p in n for p in _POSITIVE)] or [
            max(labels)
        ]

    def scores(self, texts: Sequence[str]) -> list[float]:
        """P(injection) per text: the softmax mass of the injection-like labels."""
        import torch

        if not texts:
            return []
        batch = self.tokenizer(
            list(texts),
            truncation=True,
            max_length=self.max_length,
            padding=True,
            return_tensors="pt",
        )
        with torch.inference_mode():
            probs = torch.softmax(self.model(**batch).logits, dim=-1)
        return [float(p) for p in probs[:, self.positive].sum(dim=-1)]


@functools.lru_cache(maxsize=4)
def load_linear(path: str = str(ARTIFACT)) -> LinearModel:
    """The linear model at ``path``, loaded once per process."""
    try:
        import joblib
    except ImportError:
        raise missing_extra("guards", "scikit-learn") from None
    if not Path(path).is_file():
        raise ConfigError(
            f"injection model not found: {path}",
            hint="rebuild it with 'python scripts/train_injection.py'",
        )
    return LinearModel(joblib.load(path))


@functools.lru_cache(maxsize=4)
def load_transformer(model_id: str) -> TransformerModel:
    """A hub id or local path loaded with AutoModelForSequenceClassification, once per process."""
    try:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
    except ImportError:
        raise missing_extra("local", "transformers") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_id)
        model = AutoModelForSequenceClassification.from_pretrained(model_id)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot load injection classifier {model_id!r}: {str(exc).splitlines()[0]}",
            hint="use a local path or a hub id you can reach, or 'model: builtin'",
        ) from None
    model.eval()
    return TransformerModel(tokenizer, model)


def load_model(spec: str) -> InjectionModel:
    """``builtin`` (the shipped artifact), a ``.joblib`` path, or a transformer id/path."""
    if spec in ("", "builtin", "linear"):
        return load_linear()
    if spec.endswith(".joblib"):
        return load_linear(str(Path(spec).expanduser()))
    return load_transformer(spec)

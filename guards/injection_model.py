"""Injection classifiers: the shipped hashed n-gram model, or a transformer named in the policy.

Both are loaded once per process (keyed by path or model id) and score a batch of texts with
the probability that each is an injection or jailbreak.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from autan.errors import ConfigError, missing_extra
from autan.guards.injection_features import REBUILD, HashedLinear
from autan.guards.npz import load_npz, save_npz

if TYPE_CHECKING:
    from autan.memory.embeddings import Embedder

ARTIFACT = Path(__file__).with_name("injection_model.npz")
SEMANTIC_ARTIFACT = Path(__file__).with_name("injection_semantic.npz")
# The head was trained on fp32 MiniLM vectors; it keeps that embedder whatever runtime retrieval
# uses (ONNX fp32 makes the same vectors as torch fp32 and imports no torch).
SEMANTIC_EMBEDDER = "minilm@onnx"
SEMANTIC_FORMAT = "autan-embedding-head-1"
_POSITIVE = ("injection", "jailbreak", "malicious", "unsafe", "attack", "label_1")


class InjectionModel(Protocol):
    """Anything that scores texts with P(injection)."""

    def scores(self, texts: Sequence[str]) -> list[float]:
        """One probability per text."""
        ...


class EmbeddingHead:
    """A logistic regression over sentence embeddings (the semantic tier).

    It generalises across phrasings the n-gram model has not seen, at the cost of running the
    embedding model (all-MiniLM-L6-v2 from the offline package, about 20 ms per segment on two
    CPU cores).
    """

    def __init__(self, embedder: Embedder, coef: npt.NDArray[np.float32], intercept: float):
        if coef.shape != (embedder.dim,):
            raise ConfigError(
                f"embedding head has {coef.shape[0]} weights but {embedder.name} gives "
                f"{embedder.dim} dimensions"
            )
        self.embedder, self.coef, self.intercept = embedder, coef, intercept

    def scores(self, texts: Sequence[str]) -> list[float]:
        """P(injection) per text."""
        if not texts:
            return []
        vectors = np.asarray(self.embedder.embed(list(texts)), dtype=np.float32)
        z = np.clip(vectors @ self.coef + self.intercept, -50.0, 50.0)
        return [float(p) for p in 1.0 / (1.0 + np.exp(-z))]

    def save(self, path: str | Path, **meta: object) -> None:
        """Write the head (not the embedder) as ``.npz``."""
        save_npz(
            path,
            SEMANTIC_FORMAT,
            {"embedder": self.embedder.name, **meta},
            np.float16,
            coef=self.coef,
            intercept=np.float32(self.intercept),
        )


@dataclass
class Ensemble:
    """The weighted mean of several models' probabilities; the first model is the cheap one.

    ``scores(texts, needed=p)`` runs the other models only on texts that could still reach
    ``p``: where the first model's score is so low that even certainty from the rest would
    leave the mean below ``p``, the rest count as 0 and are not run. Decisions at ``p`` or
    above are therefore the same as running every model on every text.
    """

    models: Sequence[InjectionModel]
    weights: Sequence[float]

    def scores(self, texts: Sequence[str], needed: float = 0.0) -> list[float]:
        """P(injection) per text."""
        if not texts:
            return []
        first, *rest = self.models
        total = sum(self.weights)
        mean = self.weights[0] * np.asarray(first.scores(texts)) / total
        live = np.flatnonzero(mean + (total - self.weights[0]) / total >= needed)
        if live.size:
            subset = [texts[i] for i in live]
            for model, weight in zip(rest, self.weights[1:], strict=True):
                mean[live] += weight * np.asarray(model.scores(subset)) / total
        return [float(p) for p in mean]


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
def load_linear(path: str = str(ARTIFACT)) -> HashedLinear:
    """The hashed n-gram linear model at ``path``, loaded once per process."""
    if not Path(path).is_file():
        raise ConfigError(
            f"injection model not found: {path}",
            hint="rebuild it with 'python scripts/train_injection.py'",
        )
    return HashedLinear.load(path)


@functools.lru_cache(maxsize=2)
def load_semantic(
    path: str = str(SEMANTIC_ARTIFACT), embedder: str = SEMANTIC_EMBEDDER
) -> EmbeddingHead:
    """The embedding head at ``path`` on the named embedder, loaded once per process."""
    from autan.memory.embeddings import load_embedder

    arrays, info = load_npz(path, SEMANTIC_FORMAT, ("coef", "intercept"), np.float32, REBUILD)
    head = EmbeddingHead(load_embedder(embedder), arrays["coef"], float(arrays["intercept"]))
    if info.get("embedder") != head.embedder.name:
        raise ConfigError(
            f"embedding head {path} was trained on {info.get('embedder')!r}, "
            f"not {head.embedder.name!r}",
            hint="retrain it with 'python scripts/train_injection.py'",
        )
    return head


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
    """``builtin`` (n-grams), ``builtin+semantic``, a ``.npz`` path, or a transformer id/path."""
    if spec in ("", "builtin", "linear"):
        return load_linear()
    if spec == "builtin+semantic":
        return Ensemble([load_linear(), load_semantic()], [0.5, 0.5])
    if spec.endswith(".npz"):
        return load_linear(str(Path(spec).expanduser()))
    if spec.endswith((".joblib", ".pkl", ".pickle")):
        raise ConfigError(
            f"pickled injection models are not loaded: {spec}",
            hint="retrain with 'python scripts/train_injection.py --out model.npz'",
        )
    return load_transformer(spec)

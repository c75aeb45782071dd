"""Sentence embeddings with PyTorch and transformers (fp32, or int8 dynamic quantisation).

This is the reference runtime: the ONNX runtime is checked against it when a model is exported.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autan.errors import ConfigError, missing_extra
from autan.memory.embed_onnx import buckets


def uses_cls_pooling(path: Path) -> bool:
    """Whether a sentence-transformers folder pools with the CLS token instead of the mean."""
    config = path / "1_Pooling" / "config.json"
    if not config.is_file():
        return False
    data: dict[str, Any] = json.loads(config.read_text(encoding="utf-8"))
    return bool(data.get("pooling_mode_cls_token")) and not data.get("pooling_mode_mean_tokens")


class TransformersEmbedder:
    """A sentence-embedding model run with transformers: pooled, normalised, batched."""

    def __init__(
        self,
        path: str,
        *,
        name: str,
        batch_size: int = 32,
        max_length: int = 256,
        int8: bool = False,
    ) -> None:
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
        if int8:
            self._model = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                self._model, {torch.nn.Linear}, dtype=torch.qint8
            )
        self.name, self.runtime = name, "torch-int8" if int8 else "torch"
        self.dim = int(self._model.config.hidden_size)
        self.batch_size = batch_size
        self.max_length = max_length
        self._cls = uses_cls_pooling(Path(path))
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
        """Vectors for documents, in input order; batches of similar token length."""
        out: list[list[float]] = [[] for _ in texts]
        if not texts:
            return out
        lengths = [len(ids) for ids in self._tokenizer(list(texts), truncation=True,
                   max_length=self.max_length)["input_ids"]]  # fmt: skip
        with self._lock:
            for idx in buckets(lengths, self.batch_size, self.batch_size * 128):
                for i, vec in zip(idx, self._batch([texts[i] for i in idx]), strict=True):
                    out[i] = vec
        return out

    def embed_query(self, text: str) -> list[float]:
        """The vector for one query."""
        return self.embed([text])[0]


__all__ = ["TransformersEmbedder", "uses_cls_pooling"]

"""Sentence embeddings with ONNX Runtime: no torch at run time, length-bucketed batches.

The model file (exported by ``model_cache.onnx_model``) already pools and normalises, so this
module only tokenises (the Rust ``tokenizers`` library), pads each bucket to its own longest
text and runs the buckets in parallel, one single-threaded run per available core. Small
batches run on one thread each spend about a third less CPU per chunk than large batches split
across cores by intra-op threads (which also spin-wait, and lose badly on a busy machine).
Dynamic int8 quantises each activation tensor with one scale taken from the whole tensor, so
in a batch a text's vector would depend on its batch mates and on their padding (cosine ~0.99
to the text alone). Quantised models therefore run one text per run (``per_text``): a text's
vector is then a function of the text alone, bit for bit, and costs about the same CPU per
chunk as batches of four (benchmarks/embedders.py). Their graphs have no attention mask (an
unpadded text needs none; onnx_graph.py), so they must never see a padded batch.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from autan.errors import ConfigError, missing_extra


def available_cores() -> int:
    """Cores this process may use: CPU affinity, capped by a cgroup v2 CPU quota."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cores


def buckets(lengths: Sequence[int], batch_size: int, max_tokens: int) -> Iterator[list[int]]:
    """Indices grouped by similar length: at most ``batch_size`` texts and ``max_tokens`` padded."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batch: list[int] = []
    for i in order:
        longest = max(lengths[i], 1)
        if batch and (len(batch) >= batch_size or longest * (len(batch) + 1) > max_tokens):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


class OnnxEmbedder:
    """An exported sentence-embedding model run by ONNX Runtime on the CPU."""

    def __init__(
        self,
        model_file: Path,
        tokenizer_file: Path,
        *,
        name: str,
        runtime: str = "onnx",
        max_length: int = 256,
        batch_size: int = 4,
        per_text: bool = False,
        threads: int | None = None,
    ) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise missing_extra("retrieval", exc.name or "onnxruntime") from None
        options = ort.SessionOptions()
        # one thread per run: parallel over batches instead (module docstring)
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(model_file), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own plain errors
            raise ConfigError(
                f"cannot load ONNX model {model_file}: {str(exc).splitlines()[0]}",
                hint=f"delete {model_file.parent} to export it again",
            ) from None
        self._tokenizer: Any = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.name, self.runtime = name, runtime
        self.dim = int(self._session.get_outputs()[0].shape[-1])
        self.batch_size = 1 if per_text else batch_size
        self.max_tokens = max(self.batch_size * 128, max_length)
        self.threads = threads or available_cores()
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _run(self, encodings: Sequence[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        out: np.ndarray = self._session.run(None, feed)[0]
        return out

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors as one float32 array, in input order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        groups = list(buckets([len(e.ids) for e in encodings], self.batch_size, self.max_tokens))
        with self._lock:
            if len(groups) == 1 or self.threads == 1:
                for idx in groups:
                    out[idx] = self._run([encodings[i] for i in idx])
                return out
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="autan-embed")
            runs = self._pool.map(lambda idx: self._run([encodings[i] for i in idx]), groups)
            for idx, vectors in zip(groups, runs, strict=True):
                out[idx] = vectors
        return out

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for documents, in input order."""
        result: list[list[float]] = self.embed_array(texts).tolist()
        return result

    def embed_query(self, text: str) -> list[float]:
        """The vector for one query."""
        return self.embed([text])[0]


__all__ = ["OnnxEmbedder", "available_cores", "buckets"]

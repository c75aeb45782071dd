"""Where local weights come from and how they are loaded, once per process.

A target is a folder of Hugging Face weights, a ``.gguf`` file (converted once to a safetensors
cache under the autan data dir), or a hub id already in the local Hugging Face cache (downloaded
only when the hub is reachable). Device and dtype are chosen automatically; 4/8-bit loading and
LoRA adapters come from the ``quant`` and ``lora`` extras.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from autan.agents.models.mistral_format import MistralFormat, mistral_tokenizer_file
from autan.agents.models.template_format import TemplateFormat
from autan.config import ModelSettings, Settings
from autan.errors import ConfigError, UserInputError, missing_extra

_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
_SKIP_FILES = ["consolidated*", "*.pth", "*.bin", "original/*", "*.gguf"]


@dataclass
class LocalRuntime:
    """A loaded model, its prompt format and the lock that serialises generation on it."""

    model: Any
    format: MistralFormat | TemplateFormat
    source: Path
    device: str
    dtype: torch.dtype
    load_s: float
    lock: threading.RLock = field(default_factory=threading.RLock)
    extras: dict[str, Any] = field(default_factory=dict)


# The one process-wide model cache (docs/architecture.md): weights are the costliest thing to
# load and are read-only once loaded, so agents share them; at most _CACHE_SIZE stay held,
# least recently used dropped first (an agent using a dropped model keeps its reference).
_CACHE: OrderedDict[tuple[str, ...], LocalRuntime] = OrderedDict()
_CACHE_SIZE = 2
_CACHE_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget every loaded model (tests and long-lived processes that switch models)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _offline() -> bool:
    return any(
        os.environ.get(k, "") not in ("", "0") for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _not_local(target: str, why: str) -> ConfigError:
    return ConfigError(
        f"model {target!r} is not on this machine and {why}",
        hint="point at local weights: --model local:/path/to/model-folder or "
        "local:/path/to/model.gguf (or download it once with `hf download " + target + "`)",
    )


def _from_hub(target: str) -> Path:
    """A hub id resolved from the local cache, or downloaded when the hub is reachable."""
    from huggingface_hub import hf_hub_download, snapshot_download

    parts = target.split("/")
    for local_only in (True, False):
        if not local_only and _offline():
            raise _not_local(target, "the hub is offline (HF_HUB_OFFLINE is set)")
        try:
            if target.endswith(".gguf"):
                repo, name = "/".join(parts[:2]), "/".join(parts[2:])
                return Path(hf_hub_download(repo, name, local_files_only=local_only))
            return Path(
                snapshot_download(target, local_files_only=local_only, ignore_patterns=_SKIP_FILES)
            )
        except Exception as exc:  # huggingface_hub raises many kinds; all mean "not here"
            if not local_only:
                raise _not_local(target, f"cannot be fetched ({type(exc).__name__})") from None
    raise AssertionError("unreachable")


def resolve_weights(target: str) -> Path:
    """A local folder or ``.gguf`` file for ``target`` (path, or hub id)."""
    path = Path(target).expanduser()
    if path.exists():
        return path.resolve()
    looks_like_path = target.startswith(("/", ".", "~"))
    if looks_like_path or not (_HUB_ID.match(target) or target.endswith(".gguf")):
        raise UserInputError(
            f"no model at {target!r}",
            hint="pass local:<folder with config.json>, local:<file.gguf> or local:<org/name>",
        )
    return _from_hub(target)


def gguf_cache_dir(gguf: Path, data_dir: Path) -> Path:
    """Where the safetensors conversion of ``gguf`` lives (keyed by path, size and mtime)."""
    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return data_dir / "models" / f"{gguf.stem}-{key}"


def convert_gguf(gguf: Path, data_dir: Path) -> Path:
    """Dequantise a GGUF file once into a bf16 safetensors folder; later loads take seconds."""
    out = gguf_cache_dir(gguf, data_dir)
    if (out / "config.json").is_file():
        return out
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if importlib.util.find_spec("gguf") is None:
        raise missing_extra("local", "gguf")
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    try:
        model: Any = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.float32
        )
        model = model.to(torch.bfloat16)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    except Exception as exc:
        raise ConfigError(f"cannot read GGUF file {gguf}: {exc}") from None
    _forget_gguf_quantizer(model)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.rename(out)
    return out


def _forget_gguf_quantizer(model: Any) -> None:
    """The weights are dequantised in memory; without this transformers refuses to save them."""
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config


# CPU flags (Linux /proc/cpuinfo) of native bf16 arithmetic: x86 AVX-512 BF16 / AMX, Arm BF16.
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


@lru_cache(maxsize=1)
def cpu_prefers_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU has native bf16 arithmetic (its flags); a timing probe where unknown.

    The flags decide wherever they can be read: a timing probe alone gave different answers
    from one run to the next on a busy machine, and with them different replies.
    """
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return _bf16_probe()
    flags = {f for line in text.splitlines() if line.startswith(("flags", "Features"))
             for f in line.split(":", 1)[-1].split()}  # fmt: skip
    return bool(flags & BF16_FLAGS)


def _bf16_probe() -> bool:
    """A short memory-bound matrix-vector probe: bf16 at least 10% faster than fp32."""

    def best(dtype: torch.dtype) -> float:
        w, x = torch.randn(2048, 4096, dtype=dtype), torch.randn(4096, 1, dtype=dtype)
        times = []
        for _ in range(8):
            start = time.perf_counter()
            torch.mm(w, x)
            times.append(time.perf_counter() - start)
        return min(times)

    return best(torch.bfloat16) < 0.9 * best(torch.float32)


def choose_device(requested: str) -> str:
    """``requested``, or CUDA, then Apple MPS, then CPU."""
    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def dtype_name(dtype: torch.dtype) -> str:
    """The settings name of ``dtype`` (``model.dtype``)."""
    return next(name for name, d in _DTYPES.items() if d == dtype)


def choose_dtype(device: str, requested: str) -> torch.dtype:
    """CUDA bf16 (fp16 on old GPUs), MPS fp16, CPU bf16 where it is native else fp32."""
    if requested != "auto":
        if requested not in _DTYPES:
            raise ConfigError(f"unknown dtype {requested!r}", hint=f"use one of {list(_DTYPES)}")
        return _DTYPES[requested]
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.bfloat16 if cpu_prefers_bf16() else torch.float32


def _quantization(cfg: ModelSettings, dtype: torch.dtype) -> dict[str, Any]:
    if cfg.quantization == "none":
        return {}
    if importlib.util.find_spec("bitsandbytes") is None:
        raise missing_extra("quant", "bitsandbytes")
    from transformers import BitsAndBytesConfig

    config_cls: Any = BitsAndBytesConfig
    bits = config_cls(
        load_in_4bit=cfg.quantization == "4bit",
        load_in_8bit=cfg.quantization == "8bit",
        bnb_4bit_compute_dtype=dtype,
        bnb_4bit_quant_type="nf4",
    )
    return {"quantization_config": bits, "device_map": "auto"}


def _prompt_format(folder: Path) -> MistralFormat | TemplateFormat:
    mistral_file = mistral_tokenizer_file(folder)
    if mistral_file is not None:
        fmt = MistralFormat(mistral_file)
        if fmt.native_tools:  # v1 tokenizers have no tool tokens: use the chat template
            return fmt
    from transformers import AutoTokenizer

    return TemplateFormat(AutoTokenizer.from_pretrained(folder))


def _load_model(folder: Path, cfg: ModelSettings, device: str, dtype: torch.dtype) -> Any:
    from transformers import AutoModelForCausalLM

    extra = _quantization(cfg, dtype)
    try:
        model: Any = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, **extra)
    except OSError as exc:
        raise ConfigError(
            f"cannot load model weights from {folder}: {exc}",
            hint="the folder needs config.json and *.safetensors (or pass a .gguf file)",
        ) from None
    if not extra:
        model.to(device)
    if cfg.adapter:
        if importlib.util.find_spec("peft") is None:
            raise missing_extra("lora", "peft")
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, cfg.adapter)
    return model.eval()


@contextmanager
def _quiet_progress() -> Iterator[None]:
    """No "Loading weights" progress bars on the CLI's stderr while a model loads."""
    from transformers.utils import logging

    hf_logging: Any = logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def load_runtime(target: str, settings: Settings) -> LocalRuntime:
    """The loaded model for ``target``, shared by every caller in this process."""
    cfg = settings.model
    device = choose_device(cfg.device)
    dtype = choose_dtype(device, cfg.dtype)
    key = (target, device, str(dtype), cfg.quantization, cfg.adapter or "")
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        start = time.perf_counter()
        source = resolve_weights(target)
        folder = convert_gguf(source, settings.data_dir) if source.suffix == ".gguf" else source
        if not folder.is_dir():
            raise UserInputError(f"{source} is neither a model folder nor a .gguf file")
        if not (folder / "config.json").is_file():
            raise UserInputError(
                f"{folder} is not a model folder: it has no config.json",
                hint="pass local:<folder with config.json and weights> or local:<file.gguf>",
            )
        with _quiet_progress():
            fmt = _prompt_format(folder)
            model = _load_model(folder, cfg, device, dtype)
        runtime = LocalRuntime(model, fmt, folder, device, dtype, time.perf_counter() - start)
        _CACHE[key] = runtime
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return runtime

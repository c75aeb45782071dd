"""Grammar-constrained decoding: the reply is plain text or a tool call valid for the tools.

Backend: llguidance. xgrammar, llguidance and outlines all gave 100% valid JSON at a 0-10% speed
cost in our measurements; llguidance is an 8 MB wheel with no triton/torch.compile dependency,
takes any tokenizer (including mistral-common's own SentencePiece one, so the tiny test model and
Mistral checkpoints without ``tokenizer.json`` work), and its Lark grammars can name the
``[TOOL_CALLS]`` token by id. Grammars are compiled once per tool set and copied per call.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import LogitsProcessor

from autan.agents.models.copy_bias import CopyBias, token_table
from autan.agents.models.grammar_budget import (
    Closer,
    JsonCursor,
    Tiers,
    bounded,
    reserve_tokens,
    string_share,
)
from autan.agents.models.key_bias import KeyBias
from autan.agents.models.mistral_format import MistralFormat
from autan.agents.models.number_bias import NumberBias
from autan.agents.models.shape_bias import ShapeBias
from autan.agents.models.template_format import TemplateFormat
from autan.errors import ConfigError, missing_extra

JSON_STYLE = {"whitespace_flexible": False, "key_separator": ": ", "item_separator": ", "}
MAX_CALLS = 8
_PROSE = r"/[ \t\n]*[^ \t\n{\[<`](?s:.*)/"


def closed(schema: Any) -> Any:
    """``schema`` with ``additionalProperties: false`` wherever objects left it open.

    Tool calls name their arguments; unlisted keys would only let decoding wander (OpenAI's
    strict mode makes the same choice). The result still validates against the original.
    """
    if isinstance(schema, list):
        return [closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: closed(v) for k, v in schema.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def call_schema(
    tools: Sequence[dict[str, Any]],
    *,
    several: bool,
    max_calls: int = MAX_CALLS,
    shares: Mapping[str, int | None] | None = None,
) -> dict[str, Any]:
    """JSON schema of one call ``{"name", "arguments"}`` to any tool, or a list of them.

    ``shares`` caps each tool's free strings (characters, see ``grammar_budget``).
    """
    shares = shares or {}
    one = {
        "anyOf": [
            {
                "type": "object",
                "properties": {
                    "name": {"const": t["function"]["name"]},
                    "arguments": bounded(
                        closed(t["function"].get("parameters") or {"type": "object"}),
                        shares.get(t["function"]["name"]),
                    ),
                },
                "required": ["name", "arguments"],
                "additionalProperties": False,
            }
            for t in tools
        ]
    }
    many = {"type": "array", "items": one, "minItems": 1, "maxItems": max_calls}
    if several:
        schema: dict[str, Any] = many
    else:
        schema = {"anyOf": [one, many]} if max_calls > 1 else one
    schema["x-guidance"] = {**JSON_STYLE, "lenient": True}
    return schema


def lark_grammar(
    tools: Sequence[dict[str, Any]],
    call_token: int | None,
    *,
    force_call: bool,
    max_calls: int = MAX_CALLS,
    shares: Mapping[str, int | None] | None = None,
) -> str:
    """Lark grammar: text, or ``[TOOL_CALLS] [calls]`` (native) / a JSON call (prompted)."""
    if call_token is not None:
        schema = call_schema(tools, several=True, max_calls=max_calls, shares=shares)
        call = f'<[{call_token}]> " " %json {json.dumps(schema)}'
        prose = r"/(?s:.+)/"
    else:
        schema = call_schema(tools, several=False, max_calls=max_calls, shares=shares)
        call = f"%json {json.dumps(schema)}"
        prose = _PROSE
    start = "call" if force_call else "text | call"
    return f"start: {start}\ncall: {call}\ntext: {prose}\n"


class _SentencePieceVocab:
    """The shape llguidance's ``TokenizerWrapper`` reads, for mistral-common SentencePiece."""

    def __init__(self, fmt: MistralFormat) -> None:
        inner: Any = fmt.inner
        sp = inner._model
        special = set(inner.special_ids)
        self.eos_token_id = inner.eos_id
        self.bos_token_id = inner.bos_id
        self.special_token_ids = sorted(special)
        self.tokens = [self._bytes(sp, i, special) for i in range(inner.n_words)]
        self._sp = sp
        self._prefix = sp.encode("\n")

    @staticmethod
    def _bytes(sp: Any, i: int, special: set[int]) -> bytes:
        piece: str = sp.id_to_piece(i)
        if i in special or sp.is_control(i) or sp.is_unknown(i):
            return piece.encode()
        if sp.is_byte(i):
            return bytes([int(piece[3:5], 16)])
        return piece.replace("\u2581", " ").encode()

    def __call__(self, text: str | bytes) -> list[int]:
        """Token ids of ``text`` with no SentencePiece dummy prefix."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        ids: list[int] = self._sp.encode("\n" + text)
        return ids[len(self._prefix) :]


def _lltokenizer(fmt: MistralFormat | TemplateFormat, folder: Path) -> Any:
    import llguidance
    import llguidance.hf

    if isinstance(fmt, TemplateFormat):
        return llguidance.hf.from_tokenizer(fmt.tokenizer, eos_token=fmt.eos_ids)
    if hasattr(getattr(fmt.inner, "_model", None), "is_byte"):
        return llguidance.LLTokenizer(llguidance.TokenizerWrapper(_SentencePieceVocab(fmt)))
    from transformers import AutoTokenizer

    try:
        hf_tokenizer: Any = AutoTokenizer.from_pretrained(folder)
        return llguidance.hf.from_tokenizer(hf_tokenizer)
    except Exception as exc:
        raise ConfigError(
            f"constrained decoding needs tokenizer.json beside this Tekken model: {exc}"
        ) from None


Biases = tuple[CopyBias, ShapeBias, NumberBias, KeyBias]


class GrammarProcessor(LogitsProcessor):
    """Masks every token the grammar forbids; after an error only end-of-sequence is allowed."""

    def __init__(
        self,
        matcher: Any,
        vocab_size: int,
        eos_ids: Sequence[int],
        closer: Closer | None = None,
        copy: CopyBias | None = None,
        shape: ShapeBias | None = None,
        number: NumberBias | None = None,
        keys: KeyBias | None = None,
    ) -> None:
        import llguidance.numpy as llnp

        self.matcher = matcher
        self.closer = closer
        self.copy = copy
        self.shape = shape
        self.number = number
        self.keys = keys
        self.vocab_size = vocab_size
        self.eos_ids = list(eos_ids)
        self._fill = llnp.fill_next_token_bitmask
        self._bitmask = llnp.allocate_token_bitmask(1, vocab_size)
        self._seen: int | None = None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """Consume the token sampled last step, then forbid what the grammar cannot accept."""
        length = int(input_ids.shape[1])
        if self._seen is not None and length > self._seen:
            new = [int(t) for t in input_ids[0, self._seen :]]
            self.matcher.consume_tokens(new)
            if self.closer is not None:
                self.closer.feed(new)
        self._seen = length
        forbidden = torch.ones(scores.shape[-1], dtype=torch.bool)
        if self.matcher.is_error():
            forbidden[self.eos_ids] = False
        else:
            self._fill(self.matcher, self._bitmask)
            bits = np.unpackbits(self._bitmask.view(np.uint8), bitorder="little")
            allowed = bits[: min(self.vocab_size, scores.shape[-1])].astype(bool)
            if self.closer is not None and self.closer.closing:
                allowed = self.closer.narrow(allowed, self.matcher.compute_ff_tokens)
            forbidden[: allowed.shape[0]] = ~torch.from_numpy(allowed)
        out = scores.masked_fill(forbidden.to(scores.device), float("-inf"))
        closer = self.closer
        if closer is not None and closer.cursor.started and not closer.closing:
            self._bias(out, closer.cursor)  # inside a call only: prose and closing stay as they are
        return out  # type: ignore[return-value]

    def _bias(self, scores: torch.Tensor, cursor: JsonCursor) -> None:
        """Add the biases' bonuses where the call stands.

        A rate's fraction outranks a copy; a string value is not copied again into another
        argument of the same object.
        """
        call, value, number = cursor.call, cursor.value, cursor.number
        took = self.number is not None and self.number.apply(scores, call, value, number)
        if self.copy is not None and not took:
            self.copy.apply(scores, value, number)
            if value is not None and not number:
                self.copy.discourage(scores, value, call.siblings())
        if self.shape is not None:
            self.shape.apply(scores, call, value, number)
        if self.keys is not None:
            self.keys.apply(scores, call, value)


class ConstrainedDecoder:
    """One model's grammar factory: its llguidance tokenizer and compiled grammars per tool set."""

    def __init__(self, fmt: MistralFormat | TemplateFormat, folder: Path) -> None:
        if importlib.util.find_spec("llguidance") is None:
            raise missing_extra("local", "llguidance")
        self.format = fmt
        self.tokenizer = _lltokenizer(fmt, folder)
        self._compiled: dict[str, Any] = {}
        self._token_tiers: Tiers | None = None
        self._token_table: dict[bytes, list[int]] | None = None
        self._token_bytes: list[bytes] | None = None
        self._masks: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    def _matcher(self, grammar: str) -> Any:
        import llguidance

        with self._lock:
            proto = self._compiled.get(grammar)
            if proto is None:
                proto = llguidance.LLMatcher(self.tokenizer, grammar, log_level=0)
                if proto.is_error():
                    raise ConfigError(f"a tool schema cannot be compiled: {proto.get_error()}")
                self._compiled[grammar] = proto
            return proto.deep_copy()

    def processor(
        self,
        tools: Sequence[dict[str, Any]],
        *,
        force_call: bool,
        max_calls: int = MAX_CALLS,
        budget: int | None = None,
        source: bytes = b"",
        copy_bias: float = 0.0,
    ) -> GrammarProcessor:
        """A fresh logits processor for one generation over ``tools`` within ``budget`` tokens.

        With a ``copy_bias``, values that copy ``source`` and the shapes it suggests get that
        bonus, and numbers it writes in forms JSON does not their JSON forms (see ``copy_bias``,
        ``shape_bias`` and ``number_bias``).
        """
        token = self.format.tool_call_token
        closer, shares = None, None
        biases: Biases | tuple[None, None, None, None] = (None, None, None, None)
        if budget is not None:
            reserve = reserve_tokens(tools, lambda text: len(self.tokenizer.tokenize_str(text)))
            shares = {t["function"]["name"]: string_share(t, budget, reserve) for t in tools}
            closer = Closer(self._tiers(), budget, reserve, token)
            if copy_bias and source:
                biases = self._biases(tools, source, copy_bias)
        grammar = lark_grammar(
            tools, token, force_call=force_call, max_calls=max_calls, shares=shares
        )
        vocab = int(self.tokenizer.vocab_size)
        eos = self.format.eos_ids
        return GrammarProcessor(self._matcher(grammar), vocab, eos, closer, *biases)

    def _biases(self, tools: Sequence[dict[str, Any]], source: bytes, bonus: float) -> Biases:
        """The copy, shape, number and key biases of one generation (see ``processor``)."""
        masks, table = self._shape_masks(), self._table()
        ends = masks["more"] | masks["close"]
        shape = ShapeBias(source, tools, masks, bonus)
        return (
            CopyBias(source, table, bonus),
            shape,
            NumberBias(source, tools, table, ends, bonus),
            KeyBias(shape, table, bonus),
        )

    def _vocab(self) -> list[bytes]:
        """Each token's bytes (special tokens as ``b""``), decoded once; callers hold the lock."""
        if self._token_bytes is None:
            tok = self.tokenizer
            self._token_bytes = [
                b"" if tok.is_special_token(i) else tok.decode_bytes([i])
                for i in range(int(tok.vocab_size))
            ]
        return self._token_bytes

    def _tiers(self) -> Tiers:
        """The closing-token masks of this vocabulary, computed once."""
        with self._lock:
            if self._token_tiers is None:
                self._token_tiers = Tiers.of(self._vocab())
            return self._token_tiers

    def _table(self) -> dict[bytes, list[int]]:
        """Each token's bytes to its ids, for copying (computed once)."""
        with self._lock:
            if self._token_table is None:
                self._token_table = token_table(self._vocab())
            return self._token_table

    def _shape_masks(self) -> dict[str, np.ndarray]:
        """The token masks the shape bias reads, computed once."""
        with self._lock:
            if self._masks is None:
                self._masks = ShapeBias.masks_of(self._vocab())
            return self._masks

    @property
    def cached_grammars(self) -> int:
        """How many grammars are compiled (one per tool set and mode)."""
        return len(self._compiled)

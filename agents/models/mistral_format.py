"""Mistral's own prompt format, rendered by mistral-common, and its ``[TOOL_CALLS]`` replies.

LangChain messages become a mistral-common ``ChatCompletionRequest``; mistral-common places the
tools before the last user turn, merges the system prompt into it and checks the ids. Tool-call
ids that are not 9 alphanumerics (from other models or scripts) are mapped to stable ones.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage
from mistral_common.protocol.instruct.messages import (
    AssistantMessage,
    SystemMessage,
    ToolMessage,
    UserMessage,
)
from mistral_common.protocol.instruct.request import ChatCompletionRequest
from mistral_common.protocol.instruct.tool_calls import Function, FunctionCall, Tool, ToolCall
from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy
from mistral_common.tokens.tokenizers.mistral import MistralTokenizer
from mistral_common.tokens.tokenizers.utils import get_one_valid_tokenizer_file

from autan.errors import UserInputError

_VALID_ID = re.compile(r"^[A-Za-z0-9]{9}$")
_B62 = string.digits + string.ascii_letters
_CONTROL = ("[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]")


def mistral_tokenizer_file(folder: Path) -> Path | None:
    """The mistral-common tokenizer file (``tekken.json``, ``tokenizer.model.v3``...) if any.

    A bare ``tokenizer.model`` is any SentencePiece model (Llama's too), so it does not count.
    """
    if not folder.is_dir():
        return None
    files = [str(p) for p in folder.iterdir() if p.is_file() and p.name != "tokenizer.model"]
    try:
        return Path(get_one_valid_tokenizer_file(files))
    except ValueError:
        return None


def mistral_id(call_id: str) -> str:
    """``call_id`` if Mistral accepts it, else a stable 9-alphanumeric id derived from it."""
    if _VALID_ID.match(call_id):
        return call_id
    n = int.from_bytes(hashlib.sha256(call_id.encode()).digest()[:8], "big")
    return "".join(_B62[(n // 62**i) % 62] for i in range(9))


def message_text(message: BaseMessage) -> str:
    """The text of a message whose content may be a list of parts."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = [p if isinstance(p, str) else str(p.get("text", "")) for p in content]
    return "".join(parts)


def _assistant(message: BaseMessage) -> AssistantMessage | None:
    calls = [
        ToolCall(
            id=mistral_id(c.get("id") or c["name"]),
            function=FunctionCall(name=c["name"], arguments=json.dumps(c.get("args") or {})),
        )
        for c in getattr(message, "tool_calls", None) or ()
    ]
    text = message_text(message).strip()
    if not calls and not text:
        return None
    return AssistantMessage(content=text or None, tool_calls=calls or None)


def _convert(message: BaseMessage) -> Any:
    kind = message.type
    if kind == "system":
        return SystemMessage(content=message_text(message))
    if kind == "human":
        return UserMessage(content=message_text(message))
    if kind == "ai":
        return _assistant(message)
    if kind == "tool":
        call_id = mistral_id(str(getattr(message, "tool_call_id", "") or "tool"))
        name = getattr(message, "name", None)
        return ToolMessage(content=message_text(message), tool_call_id=call_id, name=name)
    raise UserInputError(f"the local model cannot render a {kind!r} message")


def to_request(
    messages: Sequence[BaseMessage], tools: Sequence[dict[str, Any]] | None
) -> ChatCompletionRequest:  # type: ignore[type-arg]
    """A mistral-common request for a LangChain history and OpenAI-format tools."""
    converted = [m for m in (_convert(msg) for msg in messages) if m is not None]
    spec = [
        Tool(
            function=Function(
                name=t["function"]["name"],
                description=t["function"].get("description", ""),
                parameters=t["function"].get("parameters") or {"type": "object"},
            )
        )
        for t in tools or ()
    ]
    return ChatCompletionRequest(messages=converted, tools=spec or None)


class MistralFormat:
    """Renders prompts and reads replies with a mistral-common tokenizer."""

    def __init__(self, tokenizer_file: Path) -> None:
        self.file = tokenizer_file
        self.tokenizer = MistralTokenizer.from_file(str(tokenizer_file))
        self.inner = self.tokenizer.instruct_tokenizer.tokenizer
        self.eos_ids = [self.inner.eos_id]
        self.tool_call_token = self._special("[TOOL_CALLS]")
        if self.tool_call_token in (None, self.inner.unk_id):
            self.tool_call_token = None
        self.native_tools = self.tool_call_token is not None
        self.suppress_ids = [i for i in (self._special(n) for n in _CONTROL) if i is not None]
        self.suppress_ids.append(self.inner.bos_id)

    def _special(self, name: str) -> int | None:
        try:
            return int(self.inner.get_special_token(name))
        except Exception:
            return None

    @property
    def vocab_size(self) -> int:
        """How many token ids the tokenizer knows."""
        return int(self.inner.n_words)

    def encode(self, messages: Sequence[BaseMessage], tools: Sequence[dict[str, Any]]) -> list[int]:
        """Prompt token ids, exactly as mistral-common encodes the conversation."""
        try:
            tokens = self.tokenizer.encode_chat_completion(to_request(messages, tools)).tokens
        except (ValueError, TypeError) as exc:
            raise UserInputError(
                f"this conversation cannot be rendered for Mistral: {exc}"
            ) from None
        return list(tokens)

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids`` without special tokens."""
        return str(self.inner.decode(list(ids), special_token_policy=SpecialTokenPolicy.IGNORE))

    def split_call(self, ids: Sequence[int]) -> tuple[list[int], list[int] | None]:
        """Ids before the ``[TOOL_CALLS]`` token, and those after it (None when absent)."""
        if self.tool_call_token is not None and self.tool_call_token in ids:
            at = list(ids).index(self.tool_call_token)
            return list(ids[:at]), list(ids[at + 1 :])
        return list(ids), None

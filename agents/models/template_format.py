"""The fallback prompt format for models without tool tokens: their own chat template.

Tools are described in the system prompt (``tool_prompt``), calls are JSON written as text, and
tool results go back as user turns, so any instruct model with a chat template (Mistral
v0.1/v0.2, SmolLM2, Llama...) can call tools. Replies are parsed by ``call_parsing``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from autan.agents.models.mistral_format import message_text
from autan.agents.models.tool_prompt import TOOLS_PROMPT, call_opener, describe_tools
from autan.errors import ConfigError, UserInputError

__all__ = ["TOOLS_PROMPT", "TemplateFormat", "describe_tools", "to_chat"]

_END_OF_TURN = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "</s>")


def _role_and_text(message: BaseMessage) -> tuple[str, str]:
    text = message_text(message)
    if message.type == "ai":
        calls = [
            {"name": c["name"], "arguments": c.get("args") or {}}
            for c in getattr(message, "tool_calls", None) or ()
        ]
        if calls:
            text = json.dumps(calls[0] if len(calls) == 1 else calls)
        return "assistant", text
    if message.type == "tool":
        name = getattr(message, "name", None) or "tool"
        return "user", f"Result of tool {name}:\n{text}"
    return {"system": "system", "human": "user"}.get(message.type, "user"), text


def to_chat(
    messages: Sequence[BaseMessage], tools: Sequence[dict[str, Any]], merge_system: bool
) -> list[dict[str, str]]:
    """Chat-template messages: tools in the system turn, same-role turns merged."""
    chat: list[dict[str, str]] = []
    system = [message_text(m) for m in messages if m.type == "system"]
    if tools:
        system.append(describe_tools(tools))
    for m in messages:
        if m.type == "system":
            continue
        role, text = _role_and_text(m)
        if chat and chat[-1]["role"] == role:
            chat[-1]["content"] += "\n\n" + text
        else:
            chat.append({"role": role, "content": text})
    if system:
        head = "\n\n".join(system)
        if merge_system and chat and chat[0]["role"] == "user":
            chat[0]["content"] = head + "\n\n" + chat[0]["content"]
        else:
            chat.insert(0, {"role": "system", "content": head})
    return chat


class TemplateFormat:
    """Renders prompts with a Hugging Face tokenizer's chat template."""

    native_tools = False
    tool_call_token: int | None = None

    def __init__(self, tokenizer: Any) -> None:
        if not getattr(tokenizer, "chat_template", None):
            raise ConfigError(
                "this model's tokenizer has no chat template, so it cannot hold a conversation",
                hint="use an instruct/chat model, or a Mistral model with tokenizer.model.v3",
            )
        self.tokenizer = tokenizer
        vocab = tokenizer.get_vocab()
        ends = {vocab[t] for t in _END_OF_TURN if t in vocab}
        if tokenizer.eos_token_id is not None:
            ends.add(int(tokenizer.eos_token_id))
        self.eos_ids = sorted(ends)
        self.suppress_ids: list[int] = []
        self._merge_system = False

    @property
    def vocab_size(self) -> int:
        """How many token ids the tokenizer knows."""
        return len(self.tokenizer)

    def encode(self, messages: Sequence[BaseMessage], tools: Sequence[dict[str, Any]]) -> list[int]:
        """Prompt token ids through the model's chat template (system merged if it refuses)."""
        for merge in (self._merge_system, True):
            chat = to_chat(messages, tools, merge)
            try:
                ids = self.tokenizer.apply_chat_template(
                    chat, add_generation_prompt=True, tokenize=True, return_dict=False
                )
            except Exception as exc:  # jinja2 raises TemplateError from the template itself
                if merge:
                    message = f"the chat template rejected this conversation: {exc}"
                    raise UserInputError(message) from None
                continue
            self._merge_system = merge
            return [int(i) for i in (ids["input_ids"] if isinstance(ids, dict) else ids)]
        raise AssertionError("unreachable")

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids`` without special tokens."""
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=True))

    def open_call(self, tools: Sequence[dict[str, Any]]) -> list[int]:
        """Token ids that start the reply to a forced call (``tool_prompt.call_opener``)."""
        ids = self.tokenizer.encode(call_opener(tools), add_special_tokens=False)
        return [int(i) for i in ids]

    def split_call(self, ids: Sequence[int]) -> tuple[list[int], list[int] | None]:
        """No call token: the whole reply is text, parsed for JSON calls afterwards."""
        return list(ids), None

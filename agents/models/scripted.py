"""Fakes that implement the chat-model seam: a replayed script and a function-backed model.

A script is YAML or JSON::

    conversations:
      - when: "(?i)area"            # regex on the latest user message; first match wins
        turns:
          - tool_calls: [{name: calculator, args: {expression: "3.14159 * 2 ** 2"}}]
          - text: "The area is {{ results.calculator.value }}."
    turns: [...]                    # the default conversation when no ``when`` matches

The turn played is the number of AI messages after the latest user message, so a script is
stateless and replays the same way after a resume from a checkpoint. ``text`` is a sandboxed
Jinja2 template that sees ``results`` (latest tool result by tool name), ``history`` (every
result by tool name, oldest first) and ``question``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import yaml
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolCallChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import BaseModel, Field, ValidationError

from autan.agents.models.base import (
    ToolBindingChatModel,
    apply_stop,
    new_tool_call_id,
    tool_results_by_name,
)
from autan.errors import UserInputError

_JINJA = SandboxedEnvironment(autoescape=False)


class ScriptedCall(BaseModel):
    """One tool call a script makes."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class ScriptedTurn(BaseModel):
    """One AI turn: text, tool calls, or both."""

    text: str = ""
    tool_calls: list[ScriptedCall] = Field(default_factory=list)


class Conversation(BaseModel):
    """Turns played when the latest user message matches ``when``."""

    when: str = ""
    turns: list[ScriptedTurn]


class Script(BaseModel):
    """A whole script: matched conversations and a default one."""

    conversations: list[Conversation] = Field(default_factory=list)
    turns: list[ScriptedTurn] = Field(default_factory=list)
    exhausted: str = "I have no scripted answer for that."

    @classmethod
    def load(cls, source: str | Path) -> Script:
        """Read a script from a path, or ``builtin`` / ``builtin:NAME`` for a shipped one."""
        name = str(source)
        if name == "builtin" or name.startswith("builtin:"):
            stem = name.partition(":")[2] or "demo"
            ref = resources.files("autan.agents.models") / "scripts" / f"{stem}.yaml"
            if not ref.is_file():
                raise UserInputError(f"no built-in script named {stem!r}")
            return cls.parse(ref.read_text(encoding="utf-8"), name)
        path = Path(name).expanduser()
        if not path.is_file():
            raise UserInputError(f"script file not found: {path}", hint="pass scripted:<file>")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UserInputError(
                f"script file {path} is not UTF-8 text", hint="pass a YAML or JSON script"
            ) from None
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, origin: str = "<script>") -> Script:
        """Parse YAML/JSON text; errors name the origin and the field."""
        try:
            data = yaml.safe_load(text)
            if isinstance(data, list):
                data = {"turns": data}
            return cls.model_validate(data or {})
        except yaml.YAMLError as exc:
            raise UserInputError(f"{origin}: not valid YAML/JSON: {exc}") from None
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise UserInputError(f"{origin}: {where}: {err['msg']}") from None

    def turns_for(self, question: str) -> list[ScriptedTurn]:
        """The conversation whose ``when`` matches ``question``, else the default turns."""
        for conv in self.conversations:
            if re.search(conv.when, question):
                return conv.turns
        return self.turns


def _latest_question(messages: Sequence[BaseMessage]) -> tuple[str, int]:
    """The latest user message and how many AI messages followed it."""
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].type == "human":
            played = sum(1 for m in messages[i + 1 :] if m.type == "ai")
            return str(messages[i].content), played
    return "", sum(1 for m in messages if m.type == "ai")


class _FakeBase(ToolBindingChatModel):
    """Streaming for fakes: text word by word, then tool calls as chunks."""

    model_name: str = "scripted"
    standard_names: ClassVar[dict[str, str]] = {"model": "model_name"}
    unused_standard: ClassVar[frozenset[str]] = frozenset(
        {"temperature", "max_tokens", "timeout", "max_retries", "api_key", "base_url"}
    )

    def _respond(self, messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        raise NotImplementedError

    def _reply(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> AIMessage:
        message = self._respond(messages, kwargs.get("tools") or [])
        stop = self.stops(stop)
        if stop and isinstance(message.content, str):
            message = message.model_copy(update={"content": apply_stop(message.content, stop)})
        meta = {"finish_reason": "tool_calls" if message.tool_calls else "stop"}
        meta["model_name"] = str(kwargs.get("model") or self.model_label())
        return message.model_copy(
            update={"response_metadata": {**meta, **message.response_metadata}}
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = self._reply(messages, stop, kwargs)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self._reply(messages, stop, kwargs)
        pieces = re.findall(r"\S+\s*|\s+", str(message.content))
        if not pieces and not message.tool_calls:
            pieces = [""]  # an empty reply is still one generation, never an empty stream
        for piece in pieces:
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
        calls = [
            ToolCallChunk(name=c["name"], args=json.dumps(c["args"]), id=c["id"], index=i)
            for i, c in enumerate(message.tool_calls)
        ]
        last = AIMessageChunk(
            content="",
            tool_call_chunks=calls,
            response_metadata=message.response_metadata,
            chunk_position="last",
        )
        yield ChatGenerationChunk(message=last)


class ScriptedChatModel(_FakeBase):
    """Replays a script of turns; deterministic, offline, used by tests and ``make demo``."""

    script: Script

    @property
    def _llm_type(self) -> str:
        return "autan-scripted"

    @classmethod
    def from_source(cls, source: str | Path) -> ScriptedChatModel:
        """Load from a file path or ``builtin[:NAME]``."""
        return cls(script=Script.load(source))

    @classmethod
    def from_turns(cls, turns: Sequence[dict[str, Any]]) -> ScriptedChatModel:
        """Build from a list of turn dicts."""
        return cls(script=Script.model_validate({"turns": list(turns)}))

    def _respond(self, messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        question, played = _latest_question(messages)
        turns = self.script.turns_for(question)
        if played >= len(turns):
            return AIMessage(content=self.script.exhausted)
        turn = turns[played]
        history = tool_results_by_name(messages)
        latest = {name: values[-1] for name, values in history.items()}
        context = {"results": latest, "history": history, "question": question}
        try:
            text = _JINJA.from_string(turn.text).render(context) if turn.text else ""
        except TemplateError as exc:
            raise UserInputError(
                f"scripted model: turn {played + 1} of the script failed to render: {exc}",
                hint="fix the script's template (results.NAME holds each tool's latest result)",
            ) from None
        calls = [
            {"name": c.name, "args": c.args, "id": new_tool_call_id(), "type": "tool_call"}
            for c in turn.tool_calls
        ]
        return AIMessage(content=text, tool_calls=calls)


Responder = Callable[[list[BaseMessage], list[dict[str, Any]]], AIMessage | str]


class FunctionChatModel(_FakeBase):
    """A chat model backed by a Python function ``(messages, tools) -> AIMessage | str``."""

    func: Responder
    model_name: str = "function"

    @property
    def _llm_type(self) -> str:
        return "autan-function"

    @cached_property
    def _name(self) -> str:
        return getattr(self.func, "__name__", "function")

    def _respond(self, messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        out = self.func(messages, tools)
        return AIMessage(content=out) if isinstance(out, str) else out

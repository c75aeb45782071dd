"""What every autan chat model shares: tool binding in OpenAI's function format."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from autan.agents.models.schema_types import normalise_tool
from autan.agents.models.standard import StandardParamsModel

ToolLike = dict[str, Any] | type | Callable[..., Any] | BaseTool

_ID_ALPHABET = string.ascii_letters + string.digits


def new_tool_call_id(length: int = 9) -> str:
    """A tool-call id of ``length`` alphanumerics (Mistral requires exactly 9)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def apply_stop(text: str, stop: Sequence[str] | None) -> str:
    """``text`` cut before the earliest stop sequence it contains."""
    cut = len(text)
    for s in stop or ():
        at = text.find(s) if s else -1
        if at != -1:
            cut = min(cut, at)
    return text[:cut]


def openai_tools(tools: Sequence[ToolLike]) -> list[dict[str, Any]]:
    """Tools in OpenAI's ``{"type": "function", "function": {...}}`` format, types normalised."""
    return [normalise_tool(convert_to_openai_tool(t)) for t in tools]


def tool_names(tools: Sequence[dict[str, Any]] | None) -> list[str]:
    """Names of tools already in OpenAI format."""
    return [t["function"]["name"] for t in tools or ()]


def tool_results_by_name(messages: Sequence[BaseMessage]) -> dict[str, list[Any]]:
    """Every parsed tool result in the conversation, by tool name, oldest first."""
    results: dict[str, list[Any]] = {}
    for m in messages:
        if m.type == "tool":
            name = getattr(m, "name", None) or "tool"
            try:
                value: Any = json.loads(str(m.content))
            except json.JSONDecodeError:
                value = str(m.content)
            results.setdefault(name, []).append(value)
    return results


class ToolBindingChatModel(StandardParamsModel):
    """A chat model whose ``bind_tools`` passes OpenAI-format tools to ``_generate``."""

    def bind_tools(
        self,
        tools: Sequence[ToolLike],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools; ``_generate`` receives them as ``tools=[...]`` in OpenAI format."""
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=openai_tools(tools), **kwargs)

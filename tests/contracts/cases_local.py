"""The local: model in the chat-model contract suite: a tiny random Mistral built offline.

Greedy decoding makes it deterministic; forced calls use constrained decoding, the only way
random weights can write a schema-valid call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool

from autan.agents.models.mistral_local import LocalChatModel
from autan.agents.models.tiny import tiny_mistral_dir
from autan.config import Settings
from tests.contracts.cases import ChatModelCase


def _make(constrained: bool = False) -> LocalChatModel:
    settings = Settings()
    settings.model.max_new_tokens = 16
    settings.model.constrained = constrained
    return LocalChatModel.from_settings(str(tiny_mistral_dir()), settings)


def _make_text() -> BaseChatModel:
    return _make()


def _make_tool_caller(tools: Sequence[BaseTool]) -> Any:
    model = _make(constrained=True).model_copy(update={"max_new_tokens": 200})
    return model.bind_tools(tools, tool_choice="any", parallel_tool_calls=False)


CASES = [
    ChatModelCase(id="local-tiny-mistral", make=_make_text, make_tool_caller=_make_tool_caller)
]

"""Contract cases for the fakes shipped in the library."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.tools import BaseTool

from autan.agents.models.scripted import FunctionChatModel, ScriptedChatModel
from autan.tools.base import tool_schema
from tests.contracts.cases import ChatModelCase
from tests.support.openai_server import sample_args

GREETING = "Hello there, friend. How are you today?"


def _first_call(tools: Sequence[BaseTool]) -> dict[str, Any]:
    schema = tool_schema(tools[0])
    return {"name": schema["name"], "args": sample_args(schema["parameters"])}


def _scripted() -> ScriptedChatModel:
    return ScriptedChatModel.from_turns([{"text": GREETING}])


def _scripted_caller(tools: Sequence[BaseTool]) -> Any:
    return ScriptedChatModel.from_turns([{"tool_calls": [_first_call(tools)]}]).bind_tools(tools)


def _function() -> FunctionChatModel:
    return FunctionChatModel(func=lambda messages, tools: GREETING)


def _function_caller(tools: Sequence[BaseTool]) -> Any:
    def respond(messages: list[BaseMessage], bound: list[dict[str, Any]]) -> AIMessage:
        fn = bound[0]["function"]
        call = {"name": fn["name"], "args": sample_args(fn["parameters"]), "id": "f1"}
        return AIMessage(content="", tool_calls=[call])

    return FunctionChatModel(func=respond).bind_tools(tools)


CASES = [
    ChatModelCase("scripted", _scripted, _scripted_caller),
    ChatModelCase("function", _function, _function_caller),
]

"""The one contract every autan chat model meets (scripted, function, openai, local)."""

from __future__ import annotations

import asyncio
from functools import reduce
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import BaseTool, tool

from autan.tools.base import tool_schema
from tests.contracts.cases import ChatModelCase, all_cases

CASES = all_cases()


@tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: first addend
        b: second addend
    """
    return a + b


@tool
def echo(text: str) -> str:
    """Repeat a text.

    Args:
        text: what to repeat
    """
    return text


TOOLS: list[BaseTool] = [add, echo]


@pytest.fixture(params=CASES, ids=[c.id for c in CASES])
def case(request: pytest.FixtureRequest) -> ChatModelCase:
    return request.param  # type: ignore[no-any-return]


def _joined(chunks: list[Any]) -> AIMessageChunk:
    return reduce(lambda a, b: a + b, chunks)


def _assert_valid_calls(message: AIMessage) -> None:
    assert message.tool_calls, f"expected a tool call, got {message!r}"
    schemas = {t.name: t for t in TOOLS}
    for call in message.tool_calls:
        assert call["name"] in schemas
        assert isinstance(call["id"], str) and call["id"]
        schemas[call["name"]].get_input_schema().model_validate(call["args"])  # type: ignore[union-attr]


def test_invoke_returns_an_ai_message_with_text(case: ChatModelCase) -> None:
    reply = case.make().invoke("Say hello.")
    assert isinstance(reply, AIMessage)
    assert isinstance(reply.content, str)
    assert not reply.tool_calls


def test_forced_tool_call_validates_against_the_schema(case: ChatModelCase) -> None:
    reply = case.make_tool_caller(TOOLS).invoke("Use a tool.")
    _assert_valid_calls(reply)


def test_streamed_tool_calls_assemble_into_valid_calls(case: ChatModelCase) -> None:
    chunks = list(case.make_tool_caller(TOOLS).stream("Use a tool."))
    assert chunks
    _assert_valid_calls(_joined(chunks))


def test_stream_yields_chunks_that_add_up_to_invoke(case: ChatModelCase) -> None:
    model = case.make()
    chunks = list(model.stream("Say hello."))
    assert chunks and all(isinstance(c, AIMessageChunk) for c in chunks)
    if case.deterministic:
        assert _joined(chunks).content == model.invoke("Say hello.").content


def test_stop_sequence_cuts_the_output(case: ChatModelCase) -> None:
    if not case.supports_stop or not case.deterministic:
        pytest.skip(f"{case.id} does not promise deterministic stop handling")
    model = case.make()
    full = str(model.invoke("Say hello.").content)
    assert len(full) >= 4
    stop = full[len(full) // 2 : len(full) // 2 + 2]
    cut = str(model.invoke("Say hello.", stop=[stop]).content)
    assert stop not in cut
    assert full.startswith(cut)


def test_history_with_tool_calls_and_results_is_accepted(case: ChatModelCase) -> None:
    call = {"name": "add", "args": {"a": 2, "b": 3}, "id": "abcDEF123"}
    history = [
        SystemMessage(content="You are terse."),
        HumanMessage(content="What is 2 + 3? Use a tool."),
        AIMessage(content="", tool_calls=[call]),
        ToolMessage(content='{"ok": true, "output": 5}', tool_call_id="abcDEF123", name="add"),
    ]
    reply = case.make().bind_tools(TOOLS).invoke(history)
    assert isinstance(reply, AIMessage)


def test_async_invoke_matches_sync(case: ChatModelCase) -> None:
    model = case.make()
    reply = asyncio.run(model.ainvoke("Say hello."))
    assert isinstance(reply, AIMessage)
    if case.deterministic:
        assert reply.content == model.invoke("Say hello.").content


def test_bind_tools_takes_langchain_tools_and_openai_dicts(case: ChatModelCase) -> None:
    as_dict = {"type": "function", "function": tool_schema(echo)}
    bound = case.make().bind_tools([add, as_dict])
    assert isinstance(bound.invoke("Say hello."), AIMessage)

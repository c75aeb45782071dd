"""Traces of a real agent run, exported over OTLP/HTTP to a receiver started by the test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from autan import Agent, FunctionChatModel, tracing
from tests.support.otlp_receiver import ReceivedSpan, Receiver

SECRET_ARG = "6*7 + 1234567"


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    with Receiver() as r:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", r.endpoint)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "autan-test")
        tracing.reset()
        yield r
        tracing.reset()
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT")
    tracing.reset()


def _planner(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
    results = [json.loads(str(m.content)) for m in messages if m.type == "tool"]
    if results:
        return AIMessage(content=f"The value is {results[0]['value']}.")
    calls = [
        {"name": "calculator", "args": {"expression": SECRET_ARG}, "id": "c1"},
        {"name": "python", "args": {"code": "print(6*7)"}, "id": "p1"},
    ]
    return AIMessage(content="", tool_calls=calls)


def _by_id(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    return {s.span_id: s for s in spans}


def _parent(span: ReceivedSpan, spans: list[ReceivedSpan]) -> ReceivedSpan:
    return _by_id(spans)[span.parent_id]


def test_one_trace_per_run_with_every_span_parented(receiver: Receiver, settings: Any) -> None:
    agent = Agent(
        FunctionChatModel(func=_planner), settings=settings, tools=["calculator", "python"]
    )
    answer = agent.ask("what is six times seven?")
    assert answer.text == "The value is 1234609."
    tracing.flush()
    spans = receiver.spans
    assert {s.trace_id for s in spans} == {spans[0].trace_id}, "one run, one trace"
    assert {s.service for s in spans} == {"autan-test"}
    roots = [s for s in spans if not s.parent_id]
    assert [r.name for r in roots] == ["invoke_agent autan"]
    root = roots[0]
    assert root.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert root.attributes["gen_ai.conversation.id"] == answer.thread_id

    nodes = {s.name for s in spans if s.name.startswith("node ")}
    assert {"node guard_input", "node planner", "node tools", "node guard_tool_output"} <= nodes
    assert all(_parent(s, spans) is root for s in spans if s.name.startswith("node "))

    chats = [s for s in spans if s.attributes.get("gen_ai.operation.name") == "chat"]
    assert len(chats) == 2
    assert all(_parent(c, spans).name == "node planner" for c in chats)

    tools = {
        s.attributes["gen_ai.tool.name"]: s for s in spans if s.name.startswith("execute_tool")
    }
    assert set(tools) == {"calculator", "python"}
    assert all(_parent(t, spans).name == "node tools" for t in tools.values())
    assert len(tools["calculator"].attributes["autan.tool.arguments.sha256"]) == 64
    sandbox = [s for s in spans if s.name == "sandbox.exec"]
    assert len(sandbox) == 1 and _parent(sandbox[0], spans) is tools["python"]

    guards = [s for s in spans if s.name.startswith("guard ")]
    assert guards and all(s.attributes["autan.guard.action"] for s in guards)
    assert {_parent(g, spans).name for g in guards} <= {
        "invoke_agent autan",  # the streamed answer is checked as it streams
        "node guard_input",
        "node guard_tool_output",
        "node guard_output",
        "node tools",
    }
    # arguments travel as hashes only
    everything = json.dumps([s.attributes for s in spans])
    assert SECRET_ARG not in everything


def test_a_failed_tool_call_marks_its_span(receiver: Receiver, settings: Any) -> None:
    def planner(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        if any(m.type == "tool" for m in messages):
            return AIMessage(content="gave up")
        call = {"name": "calculator", "args": {"expression": "1/0"}, "id": "c1"}
        return AIMessage(content="", tool_calls=[call])

    Agent(FunctionChatModel(func=planner), settings=settings, tools=["calculator"]).ask("1/0")
    tracing.flush()
    failed = [s for s in receiver.spans if s.name == "execute_tool calculator"]
    assert len(failed) == 1 and failed[0].status_code == 2  # STATUS_CODE_ERROR
    assert failed[0].attributes["error.type"]


def test_nothing_is_exported_by_default(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    with Receiver() as r:
        for var in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
            monkeypatch.delenv(var, raising=False)
        tracing.reset()
        agent = Agent("scripted:builtin", settings=settings)
        agent.ask("What is the area of a 10 m square?")
        assert not tracing.enabled()
        assert "callbacks" not in agent.config("t")
        tracing.flush()
        assert r.requests == 0

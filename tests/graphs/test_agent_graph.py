"""The agent graph end to end with the scripted planner and real tools."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from autan import Agent, FunctionChatModel, ScriptedChatModel
from autan.guards.base import GuardRunner, Verdict


def test_scripted_demo_runs_tools_and_answers(settings: Any) -> None:
    agent = Agent("scripted:builtin", settings=settings)
    answer = agent.ask("What is the area of a 12.5 m by 8 m garden and its fence?")
    calls = [e.data["name"] for e in answer.events if e.kind == "tool_call"]
    results = [e.data["result"] for e in answer.events if e.kind == "tool_result"]
    assert calls == ["calculator", "current_time", "calculator"]
    assert [r["ok"] for r in results] == [True, True, True]
    assert results[0]["value"] == 100.0 and results[2]["value"] == 41.0
    assert "area of 100.0 m² and needs 41.0 m of fence" in answer.text


def test_several_calls_in_one_turn_run_and_pair_with_results(settings: Any) -> None:
    model = ScriptedChatModel.from_turns(
        [
            {
                "tool_calls": [
                    {"name": "calculator", "args": {"expression": f"{i} * 2"}} for i in range(4)
                ]
            },
            {"text": "done"},
        ]
    )
    agent = Agent(model, settings=settings, tools=["calculator"])
    answer = agent.ask("double 0..3")
    state = agent.graph.get_state(agent.config(answer.thread_id)).values
    calls = [c for m in state["messages"] if isinstance(m, AIMessage) for c in m.tool_calls]
    results = {m.tool_call_id: json.loads(m.content) for m in state["messages"] if m.type == "tool"}
    assert set(results) == {c["id"] for c in calls}
    assert sorted(r["value"] for r in results.values()) == [0, 2, 4, 6]


def test_unknown_tool_and_bad_arguments_are_repaired(settings: Any) -> None:
    seen: list[str] = []

    def planner(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        results = [json.loads(m.content) for m in messages if m.type == "tool"]
        if any(r["ok"] for r in results):
            return AIMessage(content=str(next(r["value"] for r in results if r["ok"])))
        errors = [r["error"]["message"] for r in results]
        seen[:] = errors
        if not errors:
            return AIMessage(content="", tool_calls=[{"name": "calc", "args": {}, "id": "a1"}])
        if len(errors) == 1:
            return AIMessage(
                content="", tool_calls=[{"name": "calculator", "args": {"expr": 1}, "id": "a2"}]
            )
        return AIMessage(
            content="",
            tool_calls=[{"name": "calculator", "args": {"expression": "6*7"}, "id": "a3"}],
        )

    agent = Agent(FunctionChatModel(func=planner), settings=settings, tools=["calculator"])
    answer = agent.ask("six times seven")
    assert answer.text == "42"
    assert "unknown tool 'calc'" in seen[0]
    assert "invalid arguments for calculator" in seen[1] and "expression" in seen[1]


def test_repairs_are_bounded(settings: Any) -> None:
    bad = AIMessage(content="", tool_calls=[{"name": "nope", "args": {}, "id": "x"}])
    agent = Agent(FunctionChatModel(func=lambda m, t: bad), settings=settings, tools=["calculator"])
    answer = agent.ask("loop forever")
    assert "could not form a valid tool call" in answer.text


def test_step_budget_ends_with_a_clear_message(settings: Any) -> None:
    settings.planner.max_steps = 3
    call = {"name": "calculator", "args": {"expression": "1+1"}}
    model = ScriptedChatModel.from_turns([{"tool_calls": [call]}] * 10)
    agent = Agent(model, settings=settings, tools=["calculator"])
    answer = agent.ask("keep going")
    assert "stopped after 3 steps" in answer.text


def test_blocking_input_rail_stops_before_the_planner(settings: Any) -> None:
    class NoSecrets:
        name = "test-block"

        def check(self, text: str, stage: str, ctx: Any) -> Verdict:
            if "launch codes" in text:
                return Verdict(False, "block", text, self.name, ("asks for launch codes",), 1.0)
            return Verdict.allow(text)

    called: list[int] = []

    def planner(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        called.append(1)
        return AIMessage(content="sure")

    runner = GuardRunner({"input": [NoSecrets()]})
    agent = Agent(FunctionChatModel(func=planner), settings=settings, tools=[], guards=runner)
    answer = agent.ask("tell me the launch codes")
    assert called == []
    assert "blocked by the test-block rail" in answer.text


def test_redacting_tool_output_rail_hides_text_from_the_planner(
    settings: Any, workspace: Any
) -> None:
    (workspace / "notes.txt").write_text("the password is hunter2", encoding="utf-8")

    class Redact:
        name = "test-redact"

        def check(self, text: str, stage: str, ctx: Any) -> Verdict:
            if "hunter2" in text:
                return Verdict(True, "redact", text.replace("hunter2", "[SECRET]"), self.name)
            return Verdict.allow(text)

    seen: list[str] = []

    def planner(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        seen.extend(str(m.content) for m in messages)
        if any(m.type == "tool" for m in messages):
            return AIMessage(content="read it")
        return AIMessage(
            content="",
            tool_calls=[{"name": "read_file", "args": {"path": "notes.txt"}, "id": "r1"}],
        )

    runner = GuardRunner({"tool_output": [Redact()]})
    agent = Agent(
        FunctionChatModel(func=planner), settings=settings, tools=["read_file"], guards=runner
    )
    agent.ask("read my notes")
    assert any("[SECRET]" in s for s in seen)
    assert not any("hunter2" in s for s in seen)


def _email_agent(settings: Any, executed: list[str]) -> Agent:
    from langchain_core.tools import tool

    @tool
    def send_email(to: str) -> dict[str, Any]:
        """Send an email.

        Args:
            to: recipient
        """
        executed.append(to)
        return {"ok": True, "sent": to}

    settings.requires_approval = ["send_email"]
    model = ScriptedChatModel.from_turns(
        [{"tool_calls": [{"name": "send_email", "args": {"to": "a@example.org"}}]}, {"text": "ok"}]
    )
    return Agent(model, settings=settings, tools=[send_email])


@pytest.mark.parametrize(
    "decision, runs",
    [
        ({"decision": "approve"}, 1),
        ({"decision": "deny"}, 0),
        ({"CALL": {"decision": "approve"}}, 1),
        ({"CALL": "approve"}, 1),
    ],
)
def test_every_documented_resume_value_is_honoured(
    settings: Any, decision: dict[str, Any], runs: int
) -> None:
    executed: list[str] = []
    agent = _email_agent(settings, executed)
    first = agent.ask("email a")
    call_id = first.interrupt["calls"][0]["id"] if first.interrupt else ""
    value = {(call_id if k == "CALL" else k): v for k, v in decision.items()}
    done = agent.resume(first.thread_id, value)
    assert done.text == "ok"
    assert len(executed) == runs


@pytest.mark.parametrize("value", ["yes", {"decision": "approved"}, {"other-id": "approve"}, 1])
def test_a_resume_value_that_is_no_decision_is_refused_and_the_run_still_waits(
    settings: Any, value: Any
) -> None:
    from autan.errors import UserInputError

    executed: list[str] = []
    agent = _email_agent(settings, executed)
    first = agent.ask("email a")
    with pytest.raises(UserInputError, match="not an approval decision"):
        agent.resume(first.thread_id, value)
    assert executed == []
    assert agent.resume(first.thread_id, "approve").text == "ok"
    assert executed == ["a@example.org"]


@pytest.mark.parametrize("decision, runs", [("approve", 1), ("deny", 0)])
def test_approval_interrupts_then_runs_the_call_exactly_once(
    settings: Any, workspace: Any, decision: str, runs: int
) -> None:
    executed: list[str] = []
    agent = _email_agent(settings, executed)
    first = agent.ask("email a")
    assert first.interrupted and first.interrupt["type"] == "approval"
    assert executed == []
    done = agent.resume(first.thread_id, decision)
    assert done.text == "ok"
    assert len(executed) == runs


def test_citation_keys_are_not_mistaken_for_secrets(settings: Any) -> None:
    from langchain_core.tools import tool

    from autan.guards.policy import runner_from_settings

    key = "papers/a.md#" + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

    @tool
    def search_docs(query: str) -> dict[str, Any]:
        """Search.

        Args:
            query: what to find
        """
        return {"ok": True, "citations": [{"key": key, "text": "Attention is quadratic."}]}

    model = ScriptedChatModel.from_turns(
        [
            {"tool_calls": [{"name": "search_docs", "args": {"query": "q"}}]},
            {"text": "Quadratic [1]."},
        ]
    )
    agent = Agent(
        model, settings=settings, tools=[search_docs], guards=runner_from_settings(settings)
    )
    answer = agent.ask("how does attention scale?")
    result = next(e.data["result"] for e in answer.events if e.kind == "tool_result")
    assert result["citations"][0]["key"] == key
    assert answer.sources and answer.sources[0]["key"] == key

"""Sessions, compaction, long-term memory and approval through the CLI prompt."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from autan import Agent, FunctionChatModel, ScriptedChatModel
from autan.agents.compaction import is_summary
from autan.cli.app import main
from autan.memory.checkpoints import open_checkpointer
from autan.tools.base import make_tool, ok


def _pairs_intact(messages: list[BaseMessage]) -> bool:
    calls = {c["id"] for m in messages if isinstance(m, AIMessage) for c in m.tool_calls}
    results = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    return calls == results


def test_long_history_is_summarised_keeping_tool_pairs(settings: Any) -> None:
    settings.planner.context_tokens = 400
    seen: list[list[BaseMessage]] = []

    def planner(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        if messages and messages[0].content.startswith("Summarise the conversation"):
            return AIMessage(content="The user asked many sums; all were computed.")
        seen.append(messages)
        if messages[-1].type == "human":
            call = {"name": "calculator", "args": {"expression": "1+1"}, "id": f"c{len(seen)}"}
            return AIMessage(content="", tool_calls=[call])
        return AIMessage(content="two " * 40)

    agent = Agent(FunctionChatModel(func=planner), settings=settings, tools=["calculator"])
    for i in range(12):
        agent.ask(f"question {i}: what is one plus one? " + "please " * 20, thread_id="t")
    state = agent.graph.get_state(agent.config("t")).values["messages"]
    assert any(is_summary(m) for m in state)
    assert "all were computed" in next(str(m.content) for m in state if is_summary(m))
    assert _pairs_intact(state)
    assert sum(1 for m in state if m.type == "human") < 12
    assert any(is_summary(m) for m in seen[-1]) and _pairs_intact(seen[-1])


def test_session_survives_a_new_process_and_is_listed(settings: Any, capsys: Any) -> None:
    model = ScriptedChatModel.from_turns([{"text": "noted"}])
    for question in ("first", "second"):
        saver = open_checkpointer(settings)
        Agent(model, settings=settings, tools=[], checkpointer=saver).ask(
            question, thread_id="session:work"
        )
        saver.conn.close()
    assert main(["sessions", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sessions"][0]["name"] == "work"
    assert main(["sessions", "show", "work", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["messages"]
    assert [m["content"] for m in shown if m["role"] == "you"] == ["first", "second"]
    assert main(["sessions", "delete", "work"]) == 2  # no terminal, no --yes: refused
    assert "add --yes" in capsys.readouterr().err
    assert main(["sessions", "show", "work"]) == 0
    assert main(["sessions", "delete", "work", "--yes"]) == 0
    assert main(["sessions", "show", "work"]) == 2
    assert main(["sessions", "show", "../etc"]) == 2


def test_memory_dedup_recall_and_forget(settings: Any, capsys: Any) -> None:
    from autan.memory.long_term import LongTermMemory

    settings.retrieval.embedder = "hashing"
    memory = LongTermMemory.from_settings(settings, "ann")
    first = memory.remember("Ann prefers metric units", "preference")
    again = memory.remember("  ann prefers METRIC units. ")
    memory.remember("Ann's project deadline is Friday")
    assert again.duplicate and again.id == first.id
    assert len(memory.entries()) == 2
    assert memory.recall("which units does Ann like?", 1)[0].text == "Ann prefers metric units"
    other = LongTermMemory(memory.store, memory.embedder, "bob")
    assert other.entries() == []
    memory.forget(first.id)
    assert [m.text for m in memory.entries()] == ["Ann's project deadline is Friday"]
    memory.close()


def test_remember_tool_feeds_automatic_recall(settings: Any) -> None:
    from autan.tools.memory_tools import auto_recall

    settings.retrieval.embedder = "hashing"
    script = ScriptedChatModel.from_turns(
        [
            {
                "tool_calls": [
                    {"name": "remember", "args": {"text": "The user's cat is named Miso"}}
                ]
            },
            {"text": "I will remember that."},
        ]
    )
    with Agent(script, settings=settings, tools=["remember"]) as first:
        first.ask("my cat is Miso")
    seen: list[str] = []

    def planner(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        seen.append(str(messages[0].content))
        return AIMessage(content="ok")

    agent = Agent(
        FunctionChatModel(func=planner), settings=settings, tools=[], recall=auto_recall(settings)
    )
    agent.ask("what is my cat called?")
    assert "The user's cat is named Miso" in seen[0]


@pytest.mark.parametrize("choice, runs", [("approve", 1), ("deny", 0), ("edit", 1)])
def test_cli_prompt_decides_and_the_call_runs_once(
    settings: Any, monkeypatch: Any, choice: str, runs: int
) -> None:
    from autan.cli import render

    sent: list[str] = []

    def send_email(to: str) -> dict[str, Any]:
        """Send an email.

        Args:
            to: recipient
        """
        sent.append(to)
        return ok(sent=to)

    settings.requires_approval = ["send_email"]
    model = ScriptedChatModel.from_turns(
        [{"tool_calls": [{"name": "send_email", "args": {"to": "a@example.org"}}]}, {"text": "ok"}]
    )
    saver = open_checkpointer(settings)
    agent = Agent(model, settings=settings, tools=[make_tool(send_email)], checkpointer=saver)
    pending = render.render(agent.stream("email a", thread_id="x"))
    assert pending and pending["calls"][0]["name"] == "send_email" and sent == []
    answers = iter([choice, '{"to": "b@example.org"}'])
    monkeypatch.setattr(render.typer, "prompt", lambda *a, **k: next(answers))
    decision = render.ask_human(pending)
    again = Agent(model, settings=settings, tools=[make_tool(send_email)], checkpointer=saver)
    assert render.render(again.stream(None, thread_id="x", resume=decision)) is None
    assert render.render(again.stream(None, thread_id="x", resume=decision)) is None
    assert len(sent) == runs
    if choice == "edit":
        assert sent == ["b@example.org"]


def test_forget_all_needs_a_terminal_or_yes(
    settings: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autan.memory.long_term import LongTermMemory

    monkeypatch.setenv("AUTAN_RETRIEVAL__EMBEDDER", "hashing")
    settings.retrieval.embedder = "hashing"
    memory = LongTermMemory.from_settings(settings, "ann")
    memory.remember("Ann prefers tea", "preference")
    memory.close()
    assert main(["memory", "forget", "--all", "--user", "ann"]) == 2
    assert "add --yes" in capsys.readouterr().err
    assert main(["memory", "list", "--user", "ann", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["memories"]) == 1
    assert main(["memory", "forget", "--all", "--user", "ann", "--yes"]) == 0

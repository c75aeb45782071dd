"""Checkpointers: 8 concurrent sessions on one SQLite file; Postgres against a real server."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from autan import Agent, ScriptedChatModel
from autan.config import load_settings
from autan.errors import ConfigError
from autan.memory.checkpoints import (
    close_checkpointer,
    list_threads,
    open_async_checkpointer,
    open_checkpointer,
    open_sqlite,
)
from tests.memory.pg_server import postgres_url_fixture  # noqa: F401 - a fixture

TURNS = 6


def _session(db: Path, name: str, settings: Any) -> None:
    saver = open_sqlite(db)
    model = ScriptedChatModel.from_turns(
        [
            {"tool_calls": [{"name": "calculator", "args": {"expression": "6 * 7"}}]},
            {"text": "it is {{ results.calculator.value }}"},
        ]
    )
    agent = Agent(model, settings=settings, tools=["calculator"], checkpointer=saver)
    for turn in range(TURNS):
        answer = agent.ask(f"{name} question {turn}", thread_id=f"session:{name}")
        assert answer.text == "it is 42"
    close_checkpointer(saver)


def _fork_session(db: Path, name: str, settings: Any) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            _session(db, name, settings)
        except BaseException as exc:  # noqa: BLE001
            code = 4 if "locked" in str(exc) else 3
            print(f"{name}: {type(exc).__name__}: {exc}", flush=True)
        os._exit(code)
    return pid


def test_eight_concurrent_sessions_on_one_sqlite_file(tmp_path: Path, settings: Any) -> None:
    db = tmp_path / "shared.sqlite"
    open_sqlite(db).close()
    pids = [_fork_session(db, f"p{i}", settings) for i in range(4)]
    errors: list[BaseException] = []

    def in_thread(name: str) -> None:
        try:
            _session(db, name, settings)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=in_thread, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    assert errors == [] and codes == [0, 0, 0, 0]
    saver = open_sqlite(db)
    threads_seen = dict(list_threads(saver, "session:"))
    assert len(threads_seen) == 8
    for name in [f"p{i}" for i in range(4)] + [f"t{i}" for i in range(4)]:
        state = saver.get_tuple({"configurable": {"thread_id": f"session:{name}"}})
        assert state is not None
        messages = state.checkpoint["channel_values"]["messages"]
        humans = [m.content for m in messages if m.type == "human"]
        assert humans == [f"{name} question {i}" for i in range(TURNS)]
        assert sum(1 for m in messages if m.type == "tool") == TURNS
    saver.close()


def test_default_checkpointer_lives_in_the_data_dir(settings: Any) -> None:
    saver = open_checkpointer(settings)
    try:
        assert Path(saver.conn.execute("PRAGMA database_list").fetchone()[2]).parent == Path(
            settings.data_dir
        )
        assert saver.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert saver.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    finally:
        close_checkpointer(saver)


def test_unsupported_checkpoint_url_is_a_config_error(tmp_path: Path) -> None:
    settings = load_settings(memory={"checkpoint_url": "mysql://x/y"})
    with pytest.raises(ConfigError, match="unsupported checkpoint URL"):
        open_checkpointer(settings)


def test_postgres_checkpointer_keeps_a_conversation(postgres_url: str, tmp_path: Path) -> None:
    settings = load_settings(memory={"checkpoint_url": postgres_url}, workspace=tmp_path)
    model = ScriptedChatModel.from_turns([{"text": "noted"}])
    saver = open_checkpointer(settings)
    agent = Agent(model, settings=settings, tools=[], checkpointer=saver)
    agent.ask("first", thread_id="session:pg")
    close_checkpointer(saver)
    saver = open_checkpointer(settings)  # a new connection sees the durable history
    agent = Agent(model, settings=settings, tools=[], checkpointer=saver)
    agent.ask("second", thread_id="session:pg")
    values = agent.graph.get_state(agent.config("session:pg")).values
    assert [m.content for m in values["messages"] if m.type == "human"] == ["first", "second"]
    assert "session:pg" in dict(list_threads(saver, "session:"))
    close_checkpointer(saver)


async def test_async_sqlite_saver_runs_ainvoke_and_survives_a_reopen(settings: Any) -> None:
    model = ScriptedChatModel.from_turns(
        [
            {"tool_calls": [{"name": "calculator", "args": {"expression": "2 + 3"}}]},
            {"text": "it is {{ results.calculator.value }}"},
        ]
    )
    async with open_async_checkpointer(settings) as saver:
        agent = Agent(model, settings=settings, tools=["calculator"], checkpointer=saver)
        out = await agent.graph.ainvoke(
            {"messages": [HumanMessage("add them")]}, agent.config("async:1")
        )
        assert out["answer"] == "it is 5"
    sync = open_checkpointer(settings)  # the same file, read by the sync saver
    try:
        state = sync.get_tuple({"configurable": {"thread_id": "async:1"}})
        assert state is not None
        assert [m.type for m in state.checkpoint["channel_values"]["messages"]][:1] == ["human"]
    finally:
        close_checkpointer(sync)
    async with open_async_checkpointer(settings) as saver:
        agent = Agent(model, settings=settings, tools=["calculator"], checkpointer=saver)
        answer = await agent.arun("again", thread_id="async:1")
        snap = await agent.graph.aget_state(agent.config("async:1"))
    humans = [m.content for m in snap.values["messages"] if m.type == "human"]
    assert answer.text == "it is 5" and humans == ["add them", "again"]


async def test_async_postgres_saver_keeps_a_conversation(postgres_url: str, tmp_path: Path) -> None:
    settings = load_settings(memory={"checkpoint_url": postgres_url}, workspace=tmp_path)
    model = ScriptedChatModel.from_turns([{"text": "noted"}])
    for question in ("first", "second"):
        async with open_async_checkpointer(settings) as saver:
            agent = Agent(model, settings=settings, tools=[], checkpointer=saver)
            await agent.arun(question, thread_id="session:apg")
            snap = await agent.graph.aget_state(agent.config("session:apg"))
    assert [m.content for m in snap.values["messages"] if m.type == "human"] == [
        "first",
        "second",
    ]

"""A model's edits wait for a human who sees the diff; approved edits run against what was shown."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from autan import Agent, FunctionChatModel, ScriptedChatModel

CALC = "def sub(a, b):\n    return a + b\n"
FIXED = "def sub(a, b):\n    return a - b\n"
EDIT = {"path": "calc.py", "old_string": "return a + b", "new_string": "return a - b"}
PROJECT = Path(__file__).resolve().parents[2] / "examples" / "automations" / "project"


def _agent(settings: Any, tools: list[str]) -> Agent:
    model = ScriptedChatModel.from_turns(
        [{"tool_calls": [{"name": "edit_file", "args": EDIT}]}, {"text": "edited"}]
    )
    return Agent(model, settings=settings, tools=tools)


def _result(agent: Agent, thread: str, name: str) -> dict[str, Any]:
    messages = agent.graph.get_state(agent.config(thread)).values["messages"]
    found = [m for m in messages if isinstance(m, ToolMessage) and m.name == name]
    return dict(json.loads(str(found[-1].content)))


@pytest.fixture
def calc(workspace: Path) -> Path:
    path = workspace / "calc.py"
    path.write_text(CALC, encoding="utf-8")
    return path


def test_an_edit_waits_shows_its_diff_and_lands_only_when_approved(
    settings: Any, calc: Path
) -> None:
    agent = _agent(settings, ["edit_file"])
    first = agent.ask("fix sub")
    assert first.interrupted and calc.read_text(encoding="utf-8") == CALC
    (call,) = first.interrupt["calls"]
    assert "-    return a + b\n+    return a - b\n" in call["preview"]["diff"]
    done = agent.resume(first.thread_id, "approve")
    assert done.text == "edited" and calc.read_text(encoding="utf-8") == FIXED
    assert _result(agent, first.thread_id, "edit_file")["base"] == call["preview"]["base"]


def test_a_denied_edit_never_touches_the_file(settings: Any, calc: Path) -> None:
    agent = _agent(settings, ["edit_file"])
    first = agent.ask("fix sub")
    agent.resume(first.thread_id, "deny")
    assert calc.read_text(encoding="utf-8") == CALC
    assert _result(agent, first.thread_id, "edit_file")["error"]["type"] == "Denied"


def test_a_file_changed_while_waiting_is_a_conflict_not_an_overwrite(
    settings: Any, calc: Path
) -> None:
    agent = _agent(settings, ["edit_file"])
    first = agent.ask("fix sub")
    calc.write_text(CALC + "\n\ndef mul(a, b):\n    return a * b\n", encoding="utf-8")
    agent.resume(first.thread_id, "approve")
    result = _result(agent, first.thread_id, "edit_file")
    assert result["ok"] is False and result["error"]["type"] == "Conflict"
    assert calc.read_text(encoding="utf-8").endswith("return a * b\n")
    assert "return a + b" in calc.read_text(encoding="utf-8")


def test_edits_run_without_a_pause_only_when_the_policy_says_so(settings: Any, calc: Path) -> None:
    settings.files.approve_edits = False
    answer = _agent(settings, ["edit_file"]).ask("fix sub")
    assert not answer.interrupted and calc.read_text(encoding="utf-8") == FIXED


def _sandbox_then_apply(messages: list[BaseMessage], tools: Any) -> AIMessage:
    """Fix the copy in the sandbox, run its tests there, then ask to apply the copy's diff."""
    done = [m for m in messages if isinstance(m, ToolMessage)]
    if not done:
        fix = "import pathlib; p = pathlib.Path('calc.py')\n"
        fix += "p.write_text(p.read_text().replace('return a + b  #', 'return a - b  #'))"
        return AIMessage("", tool_calls=[{"name": "python", "args": {"code": fix}, "id": "c1"}])
    if len(done) == 1:
        call = {"name": "run_command", "args": {"command": "python3 run_tests.py"}, "id": "c2"}
        return AIMessage("", tool_calls=[call])
    if len(done) == 2:
        first = json.loads(str(done[0].content))
        if not first["ok"]:
            return AIMessage(f"sandbox failed: {first['error']}")
        diff = "".join(f["diff"] for f in first["files"])
        call = {"name": "apply_diff", "args": {"diff": diff}, "id": "c3"}
        return AIMessage("", tool_calls=[call])
    return AIMessage("applied")


def test_the_sandbox_copy_s_diff_reaches_the_workspace_only_through_approval(
    settings: Any, workspace: Path
) -> None:
    shutil.copytree(PROJECT, workspace, dirs_exist_ok=True)
    settings.sandbox.workspace = workspace
    model = FunctionChatModel(func=_sandbox_then_apply)
    agent = Agent(model, settings=settings, tools=["python", "run_command", "apply_diff"])
    first = agent.ask("fix the failing test")
    if not first.interrupted:
        pytest.skip(f"the sandbox cannot run here: {first.text}")
    tests = _result(agent, first.thread_id, "run_command")
    assert "0 failed, 2 passed" in tests["stdout"]  # the tests pass on the sandbox copy
    (call,) = first.interrupt["calls"]
    assert call["name"] == "apply_diff" and "+    return a - b" in call["preview"]["diff"]
    assert "return a + b" in (workspace / "calc.py").read_text(encoding="utf-8")
    done = agent.resume(first.thread_id, "approve")
    assert done.text == "applied"
    assert "return a - b" in (workspace / "calc.py").read_text(encoding="utf-8")


def test_the_terminal_shows_the_diff_before_it_asks(
    settings: Any, calc: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from autan.cli import render

    agent = _agent(settings, ["edit_file"])
    first = agent.ask("fix sub")
    monkeypatch.setattr(render.typer, "prompt", lambda *a, **k: "approve")
    decision = render.ask_human(dict(first.interrupt or {}))
    shown = capsys.readouterr().err
    assert "-    return a + b" in shown and "+    return a - b" in shown
    agent.resume(first.thread_id, decision)
    assert calc.read_text(encoding="utf-8") == FIXED

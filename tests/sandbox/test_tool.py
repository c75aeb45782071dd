"""The python and run_command tools through the registry and the CLI, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autan.cli.app import main
from autan.config import load_settings
from autan.tools.registry import ToolRegistry
from autan.tools.sandbox import SandboxExecutor
from tests.sandbox.helpers import EXACT_KEYS, sandbox_settings


def test_tools_share_a_session_through_the_registry(workspace: Path) -> None:
    with ToolRegistry.builtin(load_settings(workspace=workspace), ["python", "run_command"]) as r:
        _share_a_session(r)


def _share_a_session(registry: ToolRegistry) -> None:
    defined = registry.run("python", {"code": "open('a.txt', 'w').write('1')\nx = 5"})
    used = registry.run("python", {"code": "print(x * 2)"})
    listed = registry.run("run_command", {"command": "cat a.txt"})
    fresh = registry.run("python", {"code": "print('x' in globals())", "reset": True})
    assert set(defined) == EXACT_KEYS and defined["ok"]
    assert used["stdout"] == "10\n" and listed["stdout"] == "1"
    assert fresh["stdout"] == "False\n"


def test_bad_arguments_are_error_data(workspace: Path) -> None:
    with ToolRegistry.builtin(load_settings(workspace=workspace), ["python"]) as registry:
        bad_limit = registry.run("python", {"code": "1", "timeout_s": -5})
        bad_session = registry.run("python", {"code": "1", "session": "../etc"})
    assert bad_limit["error"]["type"] == "UserInputError" and set(bad_limit) == EXACT_KEYS
    assert bad_session["error"]["type"] == "UserInputError"


def test_cli_prints_exactly_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["tool", "run", "python", "--args", json.dumps({"code": "print(6 * 7)"})])
    out = capsys.readouterr().out
    assert code in (0, None) and json.loads(out)["stdout"] == "42\n"
    assert set(json.loads(out)) == EXACT_KEYS


def test_missing_bubblewrap_is_a_config_error_naming_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = SandboxExecutor(sandbox_settings()).run("print(1)")
    assert result.error and result.error["type"] == "ConfigError"
    assert "apt-get install bubblewrap" in result.error["message"]
    assert "unsafe-host" in result.error["message"]


def test_unsafe_host_warns_on_every_call(capsys: pytest.CaptureFixture[str]) -> None:
    with SandboxExecutor(sandbox_settings("unsafe-host")).session() as session:
        session.run("x = 1")
        session.run("x += 1")
    assert capsys.readouterr().err.count("WARNING: sandbox.backend = 'unsafe-host'") >= 2

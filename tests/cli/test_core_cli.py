"""The CLI boundary: one-line errors naming the fix, exit codes 0/1/2, JSON contracts."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from autan.cli.app import main

AUTAN = str(Path(sys.executable).parent / "autan")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    return lines[0]


def test_tool_run_prints_exactly_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "tool", "run", "calculator", "--args", '{"expression": "6*7"}')
    assert code == 0
    assert json.loads(out) == {"ok": True, "expression": "6*7", "value": 42, "error": None}


def test_tool_failure_is_json_and_exit_code_says_who_must_act(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "tool", "run", "read_file", "--args", '{"path": "../../etc/passwd"}')
    assert code == 2
    assert json.loads(out)["error"]["type"] == "SecurityViolation"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["tool", "run", "calculator", "--args", "{bad"], "--args is not valid JSON"),
        (["tool", "run", "calculator", "--args", "[1]"], "must be a JSON object"),
        (["tool", "run", "calculater"], "did you mean calculator"),
        (["ask", "--model", "gpt4:x", "hi"], "unknown model spec"),
        (["ask", "--model", "scripted:/no/such/script.yaml", "hi"], "script file not found"),
        (["ask", "  "], "the question is empty"),
        (["frobnicate"], "No such command"),
        (["tool", "run"], "Missing argument"),
        ([], "error: give a command (see 'autan --help')"),
        (["runs"], "error: give a command of 'autan runs' (see 'autan runs --help')"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert expected in one_error_line(err)
    assert "Traceback" not in err


def test_unreachable_model_server_is_a_runtime_failure(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = run(capsys, "ask", "--model", f"openai:http://127.0.0.1:{port}/v1#m", "hi")
    assert code == 1
    line = one_error_line(err)
    assert f"127.0.0.1:{port}" in line and "start the server" in line


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Exception, match="unknown model spec"):
        main(["ask", "--debug", "--model", "gpt4:x", "hi"])


def test_ask_json_reports_answer_steps_and_thread(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ask", "--json", "How much fence does a 12.5 by 8 garden need?")
    assert code == 0
    body = json.loads(out)
    assert "41.0 m of fence" in body["answer"]
    assert [s["name"] for s in body["steps"] if "args" in s] == [
        "calculator",
        "current_time",
        "calculator",
    ]
    assert body["thread_id"]


def test_tool_list_json_has_names_descriptions_and_schemas(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "tool", "list", "--json")
    assert code == 0
    tools = {t["name"]: t for t in json.loads(out)["tools"]}
    assert {"calculator", "current_time", "read_file"} <= set(tools)
    assert tools["calculator"]["parameters"]["required"] == ["expression"]
    assert all(t["description"] for t in tools.values())


def test_graph_prints_mermaid_with_every_node(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "graph", "--mermaid")
    assert code == 0
    for node in (
        "guard_input",
        "planner",
        "approve",
        "tools",
        "guard_tool_output",
        "guard_output",
        "respond",
    ):
        assert node in out


def test_help_does_not_import_heavy_libraries() -> None:
    probe = (
        "import sys; from autan.cli.app import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('torch', 'transformers', 'qdrant_client', 'qdrant_edge')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_version_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "version", "--json")
    body: dict[str, Any] = json.loads(out)
    assert code == 0 and body["autan"] and body["langgraph"]


def test_console_script_end_to_end() -> None:
    done = subprocess.run([AUTAN, "tool", "run", "nope"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: unknown tool 'nope'")


@pytest.mark.parametrize(
    "model, expected",
    [
        ("local:{tmp}/empty", "is not a model folder: it has no config.json"),
        ("scripted:{tmp}/binary.yaml", "is not UTF-8 text"),
        ("", "--model is empty"),
        ("  ", "--model is empty"),
    ],
)
def test_a_bad_model_is_bad_input_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: str, expected: str
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "binary.yaml").write_bytes(b"\x00\xff\xfe\xd3binary")
    code, out, err = run(capsys, "ask", "--model", model.format(tmp=tmp_path), "hi")
    assert code == 2 and out == ""
    assert expected in one_error_line(err)


def test_fetch_of_a_site_that_cannot_be_reached_is_a_runtime_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "fetch", "https://no-such-host.invalid/page")
    assert code == 1 and out == ""
    line = one_error_line(err)
    assert "no-such-host.invalid does not resolve" in line and "robots" not in line

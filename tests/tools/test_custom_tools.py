"""The user's own tools: one config line makes them usable from the CLI, agents and YAML flows."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from autan import Agent, FunctionChatModel
from autan.cli.app import main
from autan.config import load_settings
from autan.tools.registry import ToolRegistry
from autan.tools.spec import Effect, Trust, spec_of

USER_MODULE = '''
from langchain_core.tools import tool

from autan.tools.base import make_tool
from autan.tools.spec import declare


def shout(text: str) -> str:
    """Say the text loudly.

    Args:
        text: What to say.
    """
    return text.upper() + "!"


@tool
def word_count(text: str) -> int:
    """Count the words of a text."""
    return len(text.split())


def make_reverse(settings):
    def reverse(text: str) -> str:
        """Reverse a text.

        Args:
            text: What to reverse.
        """
        return text[::-1]

    return declare(make_tool(reverse), effect="read_only", output_trust="trusted")


NOT_A_TOOL = 42
'''


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A module of the user's on the import path, and an autan.toml naming its tools."""
    pkg = tmp_path / "userpkg"
    pkg.mkdir()
    (pkg / "my_tools.py").write_text(textwrap.dedent(USER_MODULE), encoding="utf-8")
    monkeypatch.syspath_prepend(str(pkg))
    monkeypatch.setenv("PYTHONPATH", str(pkg))
    config = Path(__import__("os").environ["AUTAN_CONFIG"])
    config.write_text(
        textwrap.dedent(
            """
            [tools.custom]
            shout = "my_tools:shout"
            words = "my_tools:word_count"
            reverse = "my_tools:make_reverse"

            [tools.custom.careful_shout]
            target = "my_tools:shout"
            effect = "egress"
            requires_approval = true
            structure = ["output"]
            public_read = true
            """
        ),
        encoding="utf-8",
    )
    return config


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_one_config_line_makes_a_function_a_tool(
    user_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "tool", "list", "--json")
    names = [t["name"] for t in json.loads(out)["tools"]]
    assert code == 0 and {"shout", "words", "reverse", "calculator"} <= set(names)
    code, out, _ = run(capsys, "tool", "run", "shout", "--args", '{"text": "hi"}')
    assert code == 0 and json.loads(out) == {"ok": True, "output": "HI!", "error": None}
    code, out, _ = run(capsys, "tool", "run", "words", "--args", '{"text": "a b c"}')
    assert json.loads(out)["output"] == 3


def test_declarations_come_from_the_tool_and_the_config(user_module: Path) -> None:
    registry = ToolRegistry.configured(load_settings())
    assert spec_of(registry.get("reverse")).effect is Effect.READ_ONLY
    assert spec_of(registry.get("reverse")).output_trust is Trust.TRUSTED
    # nothing declared: the most cautious kind
    assert spec_of(registry.get("shout")).effect is Effect.EGRESS
    assert spec_of(registry.get("shout")).output_trust is Trust.UNTRUSTED
    assert spec_of(registry.get("careful_shout")).effect is Effect.EGRESS
    assert spec_of(registry.get("careful_shout")).structure == ("output",)
    assert spec_of(registry.get("shout")).structure == ()
    assert spec_of(registry.get("careful_shout")).public_read
    assert not spec_of(registry.get("shout")).public_read


def test_a_tool_that_fails_to_import_is_one_line_and_the_rest_work(
    user_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with user_module.open("a", encoding="utf-8") as f:
        f.write('\n[tools.custom.gone]\ntarget = "no_such_module:thing"\n')
        f.write('[tools.custom.number]\ntarget = "my_tools:NOT_A_TOOL"\n')
    code, out, err = run(capsys, "tool", "list")
    assert code == 0 and "shout" in out and "calculator" in out
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 2, err
    assert "'gone'" in lines[0] and "no_such_module:thing" in lines[0]
    assert "'number'" in lines[1] and "not a tool or function" in lines[1]
    code, _, err = run(capsys, "tool", "run", "gone")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no_such_module" in err


def test_the_agent_calls_a_custom_tool_and_honours_its_approval(user_module: Path) -> None:
    def plan(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        results = [json.loads(str(m.content)) for m in messages if m.type == "tool"]
        if results:
            return AIMessage(content=" / ".join(str(r.get("output")) for r in results))
        calls = [
            {"name": "shout", "args": {"text": "hello"}, "id": "a"},
            {"name": "careful_shout", "args": {"text": "careful"}, "id": "b"},
        ]
        return AIMessage(content="", tool_calls=calls)

    agent = Agent(FunctionChatModel(func=plan), tools=["shout", "careful_shout"])
    first = agent.ask("shout hello")
    assert first.interrupted and first.interrupt is not None
    assert [c["name"] for c in first.interrupt["calls"]] == ["careful_shout"]
    answer = agent.resume(first.thread_id, "approve")
    assert answer.text == "HELLO! / CAREFUL!"


def test_a_yaml_flow_uses_a_custom_tool(
    user_module: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text(
        textwrap.dedent(
            """
            name: shout-flow
            steps:
              - id: loud
                tool: shout
                args: {text: "made by a user"}
            outputs:
              said: "{{ steps.loud.output }}"
            """
        ),
        encoding="utf-8",
    )
    code, out, err = run(capsys, "run", str(flow), "--json")
    assert code == 0, err
    assert "MADE BY A USER!" in out


def test_entry_point_tools_are_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    dist = site / "acme_tools-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-tools\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[autan.tools]\nacme_shout = acme_mod:shout\n")
    (site / "acme_mod.py").write_text(textwrap.dedent(USER_MODULE), encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    registry = ToolRegistry.configured(load_settings(), ["acme_shout"])
    assert registry.run("acme_shout", {"text": "plugin"})["output"] == "PLUGIN!"
    off = load_settings(tools={"entry_points": False})
    assert "acme_shout" not in ToolRegistry.configured(off).names()
    assert sys.modules.get("acme_mod") is not None

"""Built-in tools: exact arithmetic without eval, the clock, and a workspace-confined reader."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from autan.tools.registry import ToolRegistry


@pytest.fixture
def registry(settings: Any) -> ToolRegistry:
    return ToolRegistry.builtin(settings, ["calculator", "current_time", "read_file"])


@pytest.mark.parametrize(
    "expression, value",
    [("2 + 3 * 4", 14), ("(1 + 2) ** 3", 27), ("7 // 2", 3), ("-2 ** 2", -4), ("sqrt(16)", 4.0)],
)
def test_calculator_evaluates_arithmetic(
    registry: ToolRegistry, expression: str, value: float
) -> None:
    assert registry.run("calculator", {"expression": expression})["value"] == value


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('touch /tmp/autan-pwned')",
        "().__class__.__bases__[0].__subclasses__()",
        "open('/etc/passwd').read()",
        "[x for x in range(10)]",
        "lambda: 1",
        "9 ** 9 ** 9",
        "1 / 0",
        "a = 1",
    ],
)
def test_calculator_refuses_everything_but_arithmetic(
    registry: ToolRegistry, expression: str
) -> None:
    result = registry.run("calculator", {"expression": expression})
    assert result["ok"] is False
    assert result["error"]["type"] in {"UserInputError", "InvalidArguments"}
    assert not Path("/tmp/autan-pwned").exists()


@pytest.mark.parametrize("expression", ["}} 12 * ", ".12 * 7", "12 *", "", "12 × 7"])
def test_calculator_schema_states_the_language_of_arithmetic(
    registry: ToolRegistry, expression: str
) -> None:
    """A constrained model is held to the schema's pattern: no stray brackets, no dangling
    operator, no leading dot (what SmolLM2 wrote before the pattern)."""
    from autan.agents.models.grammar_budget import bounded

    schema = registry.get("calculator").tool_call_schema.model_json_schema()
    field = bounded(schema, 24)["properties"]["expression"]
    assert re.fullmatch(field["pattern"].strip("^$"), "2 * (3 + 4) ** 2")
    assert re.fullmatch(field["pattern"].strip("^$"), "sqrt(2) / 3")
    assert not re.fullmatch(field["pattern"].strip("^$"), expression)
    result = registry.run("calculator", {"expression": expression})
    assert result["ok"] is False and result["error"]["type"] == "InvalidArguments"


def test_current_time_reports_the_zone_and_rejects_unknown_ones(registry: ToolRegistry) -> None:
    paris = registry.run("current_time", {"timezone": "Europe/Paris"})
    assert paris["ok"] and paris["iso"].endswith(("+01:00", "+02:00"))
    bad = registry.run("current_time", {"timezone": "Mars/Olympus"})
    assert bad["ok"] is False and "unknown time zone" in bad["error"]["message"]


def test_read_file_reads_inside_the_workspace(registry: ToolRegistry, workspace: Path) -> None:
    (workspace / "sub").mkdir()
    (workspace / "sub" / "a.txt").write_text("hello", encoding="utf-8")
    result = registry.run("read_file", {"path": "sub/a.txt"})
    assert result == {
        "ok": True,
        "path": "sub/a.txt",
        "text": "hello",
        "start_line": 1,
        "end_line": 1,
        "total_lines": 1,
        "truncated": False,
        "sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
        "error": None,
    }
    capped = registry.run("read_file", {"path": "sub/a.txt", "max_bytes": 2})
    assert capped["text"] == "he" and capped["truncated"] is True


def test_read_file_refuses_dotdot_and_symlink_escapes(
    registry: ToolRegistry, workspace: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CANARY", encoding="utf-8")
    os.symlink(secret, workspace / "link.txt")
    os.symlink(tmp_path, workspace / "dirlink")
    for path in [
        "../secret.txt",
        "link.txt",
        "dirlink/secret.txt",
        str(secret),
        "sub/../../secret.txt",
    ]:
        result = registry.run("read_file", {"path": path})
        assert result["ok"] is False, path
        assert result["error"]["type"] == "SecurityViolation", path
        assert "TOP-SECRET-CANARY" not in str(result)


def test_bad_arguments_are_reported_as_data(registry: ToolRegistry) -> None:
    result = registry.run("calculator", {"expr": "1"})
    assert result["ok"] is False and "expression" in result["error"]["message"]


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("blob.bin", b"abc\x00\xff\xfe\x01garbage", "is a binary file, not UTF-8 text"),
        ("latin.txt", "caf\xe9".encode("latin-1"), "is a binary file, not UTF-8 text"),
        ("folder", None, "is a directory, not a file"),
    ],
)
def test_read_file_refuses_binary_files_and_names_directories(
    registry: ToolRegistry, workspace: Path, name: str, content: bytes | None, expected: str
) -> None:
    if content is None:
        (workspace / name).mkdir()
    else:
        (workspace / name).write_bytes(content)
    result = registry.run("read_file", {"path": name})
    assert result["ok"] is False and "text" not in result
    assert expected in result["error"]["message"]


def test_read_file_cut_inside_a_character_keeps_the_whole_characters(
    registry: ToolRegistry, workspace: Path
) -> None:
    (workspace / "u.txt").write_text("aé", encoding="utf-8")
    result = registry.run("read_file", {"path": "u.txt", "max_bytes": 2})
    assert result["ok"] and result["text"] == "a" and result["truncated"]

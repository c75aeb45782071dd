"""Workspace tools on a real folder: list, grep, ranged reads, exact edits, diffs, conflicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from autan.tools.registry import ToolRegistry
from autan.tools.spec import ArgKind, Effect, Trust, spec_of

CALC = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a + b\n"
NAMES = ["list_files", "grep", "read_file", "edit_file", "write_file", "apply_diff"]


@pytest.fixture
def tools(settings: Any, workspace: Path) -> ToolRegistry:
    (workspace / "calc.py").write_text(CALC, encoding="utf-8")
    (workspace / "pkg").mkdir()
    (workspace / "pkg" / "util.py").write_text("X = 1  # TODO tidy\n", encoding="utf-8")
    (workspace / "pkg" / "data.bin").write_bytes(b"\x00\x01TODO\x02")
    return ToolRegistry.builtin(settings, NAMES)


def test_every_workspace_tool_declares_its_effect_and_argument_kinds(tools: ToolRegistry) -> None:
    specs = {t.name: spec_of(t) for t in tools}
    assert specs["read_file"].effect == Effect.READ_ONLY
    assert specs["grep"].output_trust == Trust.UNTRUSTED
    assert specs["list_files"].args_of(ArgKind.PATH) == ["pattern", "path"]
    for name in ("edit_file", "write_file", "apply_diff"):
        assert specs[name].effect == Effect.LOCAL_WRITE
    assert specs["edit_file"].args_of(ArgKind.PATH) == ["path"]
    assert specs["write_file"].args_of(ArgKind.TEXT) == ["content", "new_string", "diff"]


def test_list_files_respects_gitignore_at_every_level(tools: ToolRegistry, workspace: Path) -> None:
    (workspace / ".gitignore").write_text("*.log\nbuild/\n", encoding="utf-8")
    (workspace / "pkg" / ".gitignore").write_text("data.bin\n!keep.log\n", encoding="utf-8")
    for rel in ("run.log", "build/out.py", "pkg/keep.log", ".git/HEAD", "node_modules/x.js"):
        (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
        (workspace / rel).write_text("x", encoding="utf-8")
    listed = tools.run("list_files", {})
    assert listed["files"] == [".gitignore", "calc.py", "pkg/.gitignore", "pkg/keep.log",
                               "pkg/util.py"]  # fmt: skip
    assert tools.run("list_files", {"pattern": "*.py"})["files"] == ["calc.py", "pkg/util.py"]
    assert tools.run("list_files", {"path": "pkg", "pattern": "*.py"})["files"] == ["pkg/util.py"]
    assert tools.run("list_files", {"pattern": "pkg/"})["files"] == [
        "pkg/.gitignore", "pkg/keep.log", "pkg/util.py"
    ]  # fmt: skip


def test_list_files_is_capped_and_says_so(tools: ToolRegistry, workspace: Path) -> None:
    for i in range(30):
        (workspace / f"f{i:02}.txt").write_text("x", encoding="utf-8")
    capped = tools.run("list_files", {"pattern": "*.txt", "limit": 5})
    assert capped["files"] == [f"f{i:02}.txt" for i in range(5)]
    assert capped["count"] == 30 and capped["truncated"] is True


def test_grep_prints_path_line_text_and_skips_binary_files(tools: ToolRegistry) -> None:
    found = tools.run("grep", {"pattern": r"return a \+ b"})
    assert found["output"].splitlines() == [
        "calc.py:2:    return a + b",
        "calc.py:6:    return a + b",
    ]
    todo = tools.run("grep", {"pattern": "todo", "ignore_case": True})
    assert todo["output"] == "pkg/util.py:1:X = 1  # TODO tidy"  # not the binary data.bin
    assert todo["files_skipped"] == 1
    only = tools.run("grep", {"pattern": "return", "glob": "pkg/*"})
    assert only["output"] == "" and only["matches"] == 0


def test_grep_caps_matches_and_long_lines(
    tools: ToolRegistry, workspace: Path, settings: Any
) -> None:
    (workspace / "many.txt").write_text("hit " + "x" * 5000 + "\n" + "hit\n" * 500, "utf-8")
    out = tools.run("grep", {"pattern": "hit", "path": "many.txt", "max_matches": 10})
    lines = out["output"].splitlines()
    assert len(lines) == 10 and out["truncated"] is True and out["stopped_by"] == "match limit"
    assert len(lines[0]) == len("many.txt:1:") + settings.files.max_line_chars
    bad = tools.run("grep", {"pattern": "("})
    assert bad["ok"] is False and "bad regular expression" in bad["error"]["message"]


def test_read_file_reads_line_ranges_and_refuses_binary_and_folders(tools: ToolRegistry) -> None:
    part = tools.run("read_file", {"path": "calc.py", "start_line": 5, "end_line": 6})
    assert part["text"] == "def sub(a, b):\n    return a + b\n"
    assert (part["start_line"], part["end_line"], part["total_lines"]) == (5, 6, 6)
    binary = tools.run("read_file", {"path": "pkg/data.bin"})
    assert binary["ok"] is False and "binary file" in binary["error"]["message"]
    folder = tools.run("read_file", {"path": "pkg"})
    assert folder["ok"] is False and "is a directory" in folder["error"]["message"]
    missing = tools.run("read_file", {"path": "nope.py"})
    assert missing["error"]["type"] == "NotFoundError"


def test_edit_file_replaces_text_that_matches_exactly_once(
    tools: ToolRegistry, workspace: Path
) -> None:
    twice = tools.run("edit_file", {"path": "calc.py", "old_string": "return a + b",
                                    "new_string": "return a - b"})  # fmt: skip
    assert twice["ok"] is False and "occurs 2 times" in twice["error"]["message"]
    absent = tools.run("edit_file", {"path": "calc.py", "old_string": "nope", "new_string": ""})
    assert absent["ok"] is False and "is not in" in absent["error"]["message"]
    assert (workspace / "calc.py").read_text(encoding="utf-8") == CALC
    old = "def sub(a, b):\n    return a + b"
    done = tools.run("edit_file", {"path": "calc.py", "old_string": old,
                                   "new_string": old.replace("+", "-")})  # fmt: skip
    assert done["applied"] is True and "-    return a + b\n+    return a - b\n" in done["diff"]
    assert (workspace / "calc.py").read_text(encoding="utf-8") == CALC[:-6] + "a - b\n"


def test_edit_file_dry_run_shows_the_diff_and_writes_nothing(
    tools: ToolRegistry, workspace: Path
) -> None:
    shown = tools.run("write_file", {"path": "new/mod.py", "content": "A = 1\n", "dry_run": True})
    assert shown["applied"] is False and shown["base"] == {"new/mod.py": "absent"}
    assert shown["diff"] == "--- /dev/null\n+++ b/new/mod.py\n@@ -0,0 +1 @@\n+A = 1\n"
    assert not (workspace / "new").exists()


def test_a_diff_applies_to_several_files_or_to_none(tools: ToolRegistry, workspace: Path) -> None:
    good = tools.run("edit_file", {"path": "calc.py", "old_string": "def add", "new_string":
                                   "def plus", "dry_run": True})["diff"]  # fmt: skip
    stale = "--- a/pkg/util.py\n+++ b/pkg/util.py\n@@ -1 +1 @@\n-X = 2\n+X = 3\n"
    refused = tools.run("apply_diff", {"diff": good + stale})
    assert refused["ok"] is False and refused["error"]["type"] == "PatchConflict"
    assert (workspace / "calc.py").read_text(encoding="utf-8") == CALC
    fresh = stale.replace("X = 2", "X = 1  # TODO tidy")
    assert tools.run("apply_diff", {"diff": good + fresh})["files"] == ["calc.py", "pkg/util.py"]
    assert (workspace / "pkg" / "util.py").read_text(encoding="utf-8") == "X = 3\n"
    assert (workspace / "calc.py").read_text(encoding="utf-8").startswith("def plus(a, b):")


def test_an_edit_pinned_to_a_reviewed_hash_reports_a_conflict_and_keeps_the_newer_file(
    tools: ToolRegistry, workspace: Path
) -> None:
    read = tools.run("read_file", {"path": "calc.py"})
    (workspace / "calc.py").write_text(CALC + "# someone else's change\n", encoding="utf-8")
    args = {"path": "calc.py", "old_string": "def add", "new_string": "def plus"}
    result = tools.run("edit_file", {**args, "base": {"calc.py": read["sha256"]}})
    assert result["ok"] is False and result["error"]["type"] == "Conflict"
    assert "changed since the diff was made" in result["error"]["message"]
    assert (workspace / "calc.py").read_text(encoding="utf-8").endswith("someone else's change\n")


def test_write_file_replaces_atomically_and_keeps_the_mode(
    tools: ToolRegistry, workspace: Path
) -> None:
    script = workspace / "run.sh"
    script.write_text("echo old\n", encoding="utf-8")
    script.chmod(0o755)
    result = tools.run("write_file", {"path": "run.sh", "content": "echo new\n"})
    assert result["ok"] and result["path"] == "run.sh" and result["bytes"] == 9
    assert (
        script.read_text(encoding="utf-8") == "echo new\n"
        and script.stat().st_mode & 0o777 == 0o755
    )
    assert [p.name for p in workspace.iterdir() if p.name.endswith(".autan-tmp")] == []

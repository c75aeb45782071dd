"""git_status and git_diff: a read-only view a repository's own config cannot turn into code."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from autan.tools.registry import ToolRegistry


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo, check=True, capture_output=True,
    )  # fmt: skip


@pytest.fixture
def repo(workspace: Path) -> Path:
    _git(workspace, "init", "-q", "-b", "main")
    (workspace / "calc.py").write_text("def sub(a, b):\n    return a + b\n", encoding="utf-8")
    _git(workspace, "add", "-A")
    _git(workspace, "commit", "-qm", "init")
    return workspace


@pytest.fixture
def tools(settings: Any) -> ToolRegistry:
    return ToolRegistry.builtin(settings, ["git_status", "git_diff", "edit_file"])


def test_status_and_diff_show_an_edit_and_commit_nothing(tools: ToolRegistry, repo: Path) -> None:
    assert tools.run("git_status", {}) == {
        "ok": True, "branch": "main", "changes": [], "clean": True, "truncated": False,
        "error": None,
    }  # fmt: skip
    edit = {"path": "calc.py", "old_string": "a + b", "new_string": "a - b"}
    assert tools.run("edit_file", edit)["ok"]
    (repo / "new.txt").write_text("x\n", encoding="utf-8")
    status = tools.run("git_status", {})
    assert status["changes"] == [
        {"path": "calc.py", "index": " ", "worktree": "M"},
        {"path": "new.txt", "index": "?", "worktree": "?"},
    ]
    diff = tools.run("git_diff", {"path": "calc.py"})["diff"]
    assert "-    return a + b\n+    return a - b\n" in diff
    assert tools.run("git_diff", {"staged": True})["diff"] == ""
    log = subprocess.run(["git", "log", "--oneline"], cwd=repo, capture_output=True, text=True)
    assert len(log.stdout.splitlines()) == 1


def test_a_path_outside_the_workspace_is_refused(tools: ToolRegistry, repo: Path) -> None:
    out = repo.parent / "out.txt"
    for path in ("../x", "/etc/passwd", f"--output={out}"):
        result = tools.run("git_diff", {"path": path})
        assert result["ok"] is False and result["error"]["type"] == "SecurityViolation", path
    assert not out.exists()


def test_the_repository_config_cannot_run_programs(tools: ToolRegistry, repo: Path) -> None:
    pwned = repo.parent / "pwned"
    (repo / ".gitattributes").write_text("*.py filter=evil diff=evil\n", encoding="utf-8")
    for key, value in [
        ("filter.evil.clean", f"sh -c 'touch {pwned}-clean; cat'"),
        ("diff.evil.textconv", f"sh -c 'touch {pwned}-textconv; cat \"$0\"'"),
        ("core.fsmonitor", f"sh -c 'touch {pwned}-fsmonitor'"),
        ("diff.external", f"sh -c 'touch {pwned}-external'"),
    ]:
        _git(repo, "config", key, value)
    (repo / "calc.py").write_text("def sub(a, b):\n    return a - b\n", encoding="utf-8")
    assert tools.run("git_status", {})["ok"] and tools.run("git_diff", {})["ok"]
    assert sorted(p.name for p in repo.parent.glob("pwned*")) == []
    subprocess.run(["git", "diff"], cwd=repo, capture_output=True)  # plain git runs them
    assert sorted(p.name for p in repo.parent.glob("pwned*")) != []


def test_a_folder_that_is_no_repository_says_so(tools: ToolRegistry, workspace: Path) -> None:
    result = tools.run("git_status", {})
    assert result["ok"] is False and "not a git repository" in result["error"]["message"]


def test_a_workspace_inside_a_repository_sees_its_own_paths(settings: Any, tmp_path: Path) -> None:
    top = tmp_path / "mono"
    (top / "app" / "src").mkdir(parents=True)
    (top / "lib").mkdir()
    _git(top, "init", "-q", "-b", "main")
    (top / "app" / "src" / "main.py").write_text("x = 1\n", encoding="utf-8")
    (top / "lib" / "other.py").write_text("y = 1\n", encoding="utf-8")
    _git(top, "add", "-A")
    _git(top, "commit", "-qm", "init")
    (top / "app" / "src" / "main.py").write_text("x = 2\n", encoding="utf-8")
    (top / "app" / "new.txt").write_text("n\n", encoding="utf-8")
    (top / "lib" / "other.py").write_text("y = 2\n", encoding="utf-8")
    _git(top, "mv", "app/src/main.py", "app/src/entry.py")
    inside = settings.model_copy(update={"workspace": top / "app"})
    tools = ToolRegistry.builtin(inside, ["git_status", "git_diff", "read_file"])
    changes = tools.run("git_status", {})["changes"]
    assert changes == [
        {"path": "src/entry.py", "index": "R", "worktree": "M", "from": "src/main.py"},
        {"path": "new.txt", "index": "?", "worktree": "?"},
    ]
    assert all(tools.run("read_file", {"path": c["path"]})["ok"] for c in changes)
    diff = tools.run("git_diff", {})["diff"]
    assert "a/src/entry.py" in diff and "lib/other.py" not in diff

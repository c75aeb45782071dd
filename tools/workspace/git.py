"""``git_status`` and ``git_diff``: a read-only view of the workspace's repository.

git runs with a fixed argv (no shell), no pager, no external diff, no textconv, no fsmonitor and
every configured filter replaced by ``cat``, so a repository's own config cannot make a status
run a program. Nothing here commits, checks out or pushes.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from langchain_core.tools import BaseTool

from autan.config import Settings
from autan.errors import BackendError, ConfigError, UserInputError
from autan.tools.base import ToolResult, make_tool, ok
from autan.tools.spec import Effect, Trust, declare
from autan.tools.workspace.paths import Workspace, refuse

TIMEOUT_S = 30.0
SAFE = [
    "-c", "core.fsmonitor=false", "-c", "core.pager=cat", "-c", "diff.external=",
    "-c", "core.hooksPath=/dev/null", "-c", "color.ui=false",
]  # fmt: skip


def _git(ws: Workspace, args: list[str], limit: int) -> tuple[str, bool]:
    """Run ``git ARGS`` in the workspace; (output capped at ``limit`` bytes, truncated)."""
    exe = shutil.which("git")
    if exe is None:
        raise ConfigError("git is not installed", hint="install git to use git_status/git_diff")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env |= {"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    argv = [exe, "--no-pager", *SAFE, *_filters(exe, ws, env), *args]
    try:
        done = subprocess.run(
            argv, cwd=ws.root, env=env, capture_output=True, timeout=TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise BackendError(f"git {args[0]} took longer than {TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        message = err[-1] if err else f"exit status {done.returncode}"
        if "not a git repository" in message:
            raise UserInputError("the workspace is not a git repository", hint="git init it")
        raise BackendError(f"git {args[0]} failed: {message}")
    out = done.stdout
    return out[:limit].decode("utf-8", errors="replace"), len(out) > limit


def _filters(exe: str, ws: Workspace, env: dict[str, str]) -> list[str]:
    """``-c`` overrides that turn every configured clean/smudge/process filter into ``cat``."""
    names = subprocess.run(
        [exe, "config", "--name-only", "--get-regexp", r"^filter\."],
        cwd=ws.root, env=env, capture_output=True, timeout=TIMEOUT_S, check=False,
    ).stdout.decode(errors="replace").split()  # fmt: skip
    drivers = sorted({n.split(".")[1] for n in names if n.count(".") >= 2})
    out: list[str] = []
    for d in drivers:
        out += ["-c", f"filter.{d}.clean=cat", "-c", f"filter.{d}.smudge=cat"]
        out += ["-c", f"filter.{d}.process=", "-c", f"filter.{d}.required=false"]
    return out


def _pathspec(ws: Workspace, path: str) -> list[str]:
    if path.strip() in ("", "."):
        return []
    rel = ws.rel(ws.locate(path))
    if rel.startswith("-"):
        refuse("special-file", f"path {path!r} looks like an option")
    return ["--", rel]


def status_of(ws: Workspace) -> ToolResult:
    """The branch and every changed or untracked path inside the workspace, relative to it.

    git reports paths from the repository's top; when the workspace is a folder inside the
    repository, the status is limited to that folder and its prefix is taken off, so the paths
    are the ones every other workspace tool accepts.
    """
    args = ["status", "--porcelain=v1", "--branch", "-z", "--untracked-files=all", "--", "."]
    text, _ = _git(ws, args, ws.limits.max_diff_bytes)
    prefix, _ = _git(ws, ["rev-parse", "--show-prefix"], 4096)
    cut = len(prefix.strip())
    parts = [p for p in text.split("\0") if p]
    branch = parts.pop(0)[3:] if parts and parts[0].startswith("## ") else ""
    changes: list[dict[str, str]] = []
    while parts and len(changes) < ws.limits.max_list:
        item = parts.pop(0)
        entry = {"path": item[3 + cut :], "index": item[0], "worktree": item[1]}
        if item[0] in "RC" and parts:
            entry["from"] = parts.pop(0)[cut:]
        changes.append(entry)
    return ok(branch=branch, changes=changes, clean=not changes, truncated=bool(parts))


def diff_of(ws: Workspace, path: str, staged: bool) -> ToolResult:
    """The unified diff of the worktree (or the index) against HEAD, capped, paths relative."""
    args = ["diff", "--no-ext-diff", "--no-textconv", "--no-color", "--relative"]
    if staged:
        args.append("--cached")
    diff, truncated = _git(ws, args + _pathspec(ws, path), ws.limits.max_diff_bytes)
    return ok(diff=diff, truncated=truncated)


def make_git_status(settings: Settings) -> BaseTool:
    """The git_status tool."""
    ws = Workspace.of(settings)

    def git_status() -> ToolResult:
        """Show the workspace repository's branch and changed or untracked files (read-only)."""
        return status_of(ws)

    return declare(make_tool(git_status), effect=Effect.READ_ONLY, output_trust=Trust.UNTRUSTED)


def make_git_diff(settings: Settings) -> BaseTool:
    """The git_diff tool."""
    ws = Workspace.of(settings)

    def git_diff(path: str = ".", staged: bool = False) -> ToolResult:
        """Show uncommitted changes in the workspace repository as a unified diff (read-only).

        Args:
            path: Limit the diff to this file or folder, relative to the workspace.
            staged: Show what is staged for commit instead of unstaged changes.
        """
        return diff_of(ws, path, staged)

    return declare(
        make_tool(git_diff),
        effect=Effect.READ_ONLY,
        output_trust=Trust.UNTRUSTED,
        args={"path": "path"},
    )

"""Editing tools: ``edit_file`` (exact replace or a diff), ``write_file`` and ``apply_diff``.

Each plans its change against the file as it is now, reports the unified diff, and writes only
after every check passed (atomically per file, see changes.py). A tool carries a preview of its
call, so the approval step can show the diff and pin the reviewed content hashes (``base``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from langchain_core.tools import BaseTool

from autan.config import Settings
from autan.errors import UserInputError
from autan.tools.base import ToolResult, make_tool, ok
from autan.tools.spec import Effect, Trust, declare
from autan.tools.workspace.approval import PREVIEW_KEY
from autan.tools.workspace.changes import Change, apply, check_base, plan, summary
from autan.tools.workspace.patch import FilePatch, apply_hunks, parse_diff
from autan.tools.workspace.paths import Workspace, looks_binary, refuse

Base = dict[str, str] | None
_BASE_DOC = 'Content hashes {"path": sha256} you reviewed (read_file gives sha256); a file that '
_BASE_DOC += "differs now is reported as a conflict and nothing is written."


def _text_of(change: Change) -> str | None:
    if change.old is None:
        return None
    if looks_binary(change.old):
        raise UserInputError(f"{change.path!r} is a binary file; edit_file edits text only")
    return change.old.decode("utf-8")


def _encoded(ws: Workspace, text: str | None) -> bytes | None:
    if text is None:
        return None
    data = text.encode("utf-8")
    if len(data) > ws.limits.max_file_bytes:
        refuse("size-limit", f"the new content is over the {ws.limits.max_file_bytes}-byte limit")
    return data


def _patches(ws: Workspace, diff: str) -> list[FilePatch]:
    if len(diff.encode("utf-8")) > ws.limits.max_diff_bytes:
        refuse("size-limit", f"the diff is over the {ws.limits.max_diff_bytes}-byte limit")
    return parse_diff(diff)


def _patched(ws: Workspace, patch: FilePatch) -> Change:
    current = plan(ws, patch.path, b"")
    return replace(current, new=_encoded(ws, apply_hunks(_text_of(current), patch)))


def plan_edit(
    ws: Workspace, path: str, old_string: str, new_string: str, diff: str
) -> list[Change]:
    """The change ``edit_file`` would make, planned against the file as it is now."""
    if diff.strip():
        if "--- " not in diff:
            diff = f"--- a/{path}\n+++ b/{path}\n{diff}"
        patches = _patches(ws, diff)
        if len({p.path for p in patches}) != 1 or ws.locate(patches[0].path) != ws.locate(path):
            raise UserInputError("edit_file's diff must change exactly the file named by path")
        return [_patched(ws, patches[0])]
    current = plan(ws, path, b"")
    text = _text_of(current)
    if old_string == "":
        if text:
            raise UserInputError(f"{path!r} is not empty", hint="give old_string to replace")
        return [replace(current, new=_encoded(ws, new_string))]
    if text is None:
        raise UserInputError(f"no such file in the workspace: {path}")
    found = text.count(old_string)
    if found != 1:
        where = "is not in" if found == 0 else f"occurs {found} times in"
        raise UserInputError(
            f"old_string {where} {path!r}; it must match exactly once",
            hint="copy it exactly from read_file, with enough surrounding lines to be unique",
        )
    return [replace(current, new=_encoded(ws, text.replace(old_string, new_string)))]


def _finish(ws: Workspace, changes: list[Change], base: Base, dry_run: bool) -> ToolResult:
    check_base(changes, base)
    shown = summary(ws, changes)
    if not dry_run:
        apply(ws, changes)
    return ok(applied=not dry_run, **shown)


def _declared(ws: Workspace, func: Callable[..., ToolResult], planner: Any) -> BaseTool:
    tool = declare(
        make_tool(func),
        effect=Effect.LOCAL_WRITE,
        output_trust=Trust.TRUSTED,
        args={"path": "path", "content": "text", "new_string": "text", "diff": "text"},
    )
    tool.metadata = {**(tool.metadata or {}), PREVIEW_KEY: lambda args: summary(ws, planner(args))}
    return tool


def make_edit_file(settings: Settings) -> BaseTool:
    """The edit_file tool."""
    ws = Workspace.of(settings)

    def edit_file(
        path: str,
        old_string: str = "",
        new_string: str = "",
        diff: str = "",
        base: Base = None,
        dry_run: bool = False,
    ) -> ToolResult:
        """Edit a workspace text file: replace old_string (which must occur exactly once).

        Or pass a unified diff of this one file instead. The result shows the diff.

        Args:
            path: Path relative to the workspace directory.
            old_string: Exact text to replace, copied from read_file; "" creates a new file.
            new_string: The replacement text.
            diff: A unified diff (@@ hunks) to apply instead of old_string/new_string.
            base: Content hashes {"path": sha256} reviewed; a changed file is a conflict.
            dry_run: Only show the diff; write nothing.
        """
        changes = plan_edit(ws, path, old_string, new_string, diff)
        return _finish(ws, changes, base, dry_run)

    def planner(args: dict[str, Any]) -> list[Change]:
        keys = ("old_string", "new_string", "diff")
        return plan_edit(ws, str(args.get("path", "")), *(str(args.get(k, "")) for k in keys))

    return _declared(ws, edit_file, planner)


def make_write_file(settings: Settings) -> BaseTool:
    """write_file: replace a workspace file's content atomically (a repeat writes the same)."""
    ws = Workspace.of(settings)

    def write_file(path: str, content: str, base: Base = None, dry_run: bool = False) -> ToolResult:
        """Write UTF-8 text to a file in the workspace, creating or replacing it.

        Args:
            path: Path relative to the workspace directory.
            content: The full text to write.
            base: Content hashes {"path": sha256} reviewed; a changed file is a conflict.
            dry_run: Only show the diff; write nothing.
        """
        change = plan(ws, path, _encoded(ws, content))
        result = _finish(ws, [change], base, dry_run)
        return {**result, "path": change.path, "bytes": len(change.new or b"")}

    def planner(args: dict[str, Any]) -> list[Change]:
        content = _encoded(ws, str(args.get("content", "")))
        return [plan(ws, str(args.get("path", "")), content)]

    return _declared(ws, write_file, planner)


def plan_diff(ws: Workspace, diff: str) -> list[Change]:
    """The changes ``apply_diff`` would make: one per file of the diff."""
    changes = [_patched(ws, p) for p in _patches(ws, diff)]
    if len({c.path for c in changes}) != len(changes):
        raise UserInputError("the diff changes one file twice; merge its hunks")
    return changes


def make_apply_diff(settings: Settings) -> BaseTool:
    """The apply_diff tool: a multi-file unified diff, e.g. the files a sandbox run changed."""
    ws = Workspace.of(settings)

    def apply_diff(diff: str, base: Base = None, dry_run: bool = False) -> ToolResult:
        """Apply a unified diff (one or more files) to the workspace, all files or none.

        Use it to bring back what run_command or python changed in the sandbox (their "files"
        diffs). Every hunk must fit the files as they are now.

        Args:
            diff: The unified diff (--- a/path, +++ b/path, @@ hunks).
            base: Content hashes {"path": sha256} reviewed; a changed file is a conflict.
            dry_run: Only check the diff and show what it would change; write nothing.
        """
        return _finish(ws, plan_diff(ws, diff), base, dry_run)

    return _declared(ws, apply_diff, lambda args: plan_diff(ws, str(args.get("diff", ""))))

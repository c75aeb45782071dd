"""Read-only workspace tools: ``list_files`` (glob), ``grep`` (regex) and ``read_file`` (lines)."""

from __future__ import annotations

import os
import re
import stat
import time

from langchain_core.tools import BaseTool

from autan.config import Settings
from autan.errors import UserInputError
from autan.tools.base import ToolResult, make_tool, ok
from autan.tools.spec import Effect, Trust, declare
from autan.tools.workspace.paths import Workspace
from autan.tools.workspace.walk import Matcher, walk

MAX_PATTERN = 1_000


def _under(ws: Workspace, path: str) -> str:
    """A folder (or file) to search, confined like any other path; '' for the whole workspace."""
    if path.strip() in ("", "."):
        return ""
    return ws.rel(ws.locate(path))


def _glob(pattern: str) -> Matcher | None:
    if pattern.strip() in ("", "*", "**", "**/*"):
        return None
    if len(pattern) > MAX_PATTERN:
        raise UserInputError(f"the glob is longer than {MAX_PATTERN} characters")
    return Matcher([pattern], pruned=False)


def list_files_in(ws: Workspace, pattern: str, path: str, limit: int) -> ToolResult:
    """Workspace files matching a glob, sorted, at most ``limit`` of them."""
    cap = max(1, min(limit, ws.limits.max_list))
    spec = _glob(pattern)
    under = _under(ws, path)
    files: list[str] = []
    count = 0
    for rel, _ in walk(ws.root, under):
        if spec is None or spec.check(rel):
            count += 1
            if len(files) < cap:
                files.append(rel)
    return ok(files=files, count=count, truncated=count > len(files))


def make_list_files(settings: Settings) -> BaseTool:
    """The list_files tool over the settings' workspace."""
    ws = Workspace.of(settings)

    def list_files(pattern: str = "**/*", path: str = ".", limit: int = 200) -> ToolResult:
        """List workspace files matching a glob; .gitignore'd files, .git and caches are skipped.

        Args:
            pattern: A gitignore-style glob such as "*.py", "src/**/*.ts" or "tests/".
            path: A folder to look under, relative to the workspace.
            limit: Return at most this many paths (sorted); "count" says how many matched.
        """
        return list_files_in(ws, pattern, path, limit)

    return declare(
        make_tool(list_files),
        effect=Effect.READ_ONLY,
        output_trust=Trust.UNTRUSTED,
        args={"pattern": "path", "path": "path"},
        structure=["files", "count"],  # the file system's own listing
    )


def _compile(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    if len(pattern) > MAX_PATTERN:
        raise UserInputError(f"the pattern is longer than {MAX_PATTERN} characters")
    try:
        return re.compile(pattern, re.MULTILINE | (re.IGNORECASE if ignore_case else 0))
    except re.error as exc:
        raise UserInputError(f"bad regular expression {pattern!r}: {exc}") from None


def _matches(text: str, regex: re.Pattern[str], rel: str, width: int, room: int) -> list[str]:
    """Up to ``room`` ``path:line:text`` lines of ``text`` that match (one per line, like rg)."""
    found: list[str] = []
    line_no, pos, last = 1, 0, 0
    for match in regex.finditer(text):
        line_no += text.count("\n", pos, match.start())
        pos = match.start()
        if line_no == last:
            continue
        last = line_no
        start = text.rfind("\n", 0, pos) + 1
        end = text.find("\n", pos)
        found.append(f"{rel}:{line_no}:{text[start : end if end >= 0 else len(text)][:width]}")
        if len(found) >= room:
            break
    return found


def _searchable(ws: Workspace, entry: os.DirEntry[str]) -> str | None:
    """The text of a file grep may read; None for links, special, big or binary files."""
    try:
        fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None  # a symlink (never followed) or an unreadable file
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
            return None
        if st.st_size > ws.limits.max_file_bytes:
            return None
        data = os.read(fd, st.st_size + 1)
    finally:
        os.close(fd)
    if b"\x00" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def grep_in(ws: Workspace, regex: re.Pattern[str], under: str, glob: str, cap: int) -> ToolResult:
    """``path:line:text`` for each line matching ``regex``, at most ``cap`` lines."""
    spec = _glob(glob)
    deadline = time.monotonic() + ws.limits.grep_timeout_s
    out: list[str] = []
    searched = skipped = 0
    stopped = ""
    for rel, entry in walk(ws.root, under):
        if spec is not None and not spec.check(rel):
            continue
        text = _searchable(ws, entry)
        if text is None:
            skipped += 1
            continue
        searched += 1
        out += _matches(text, regex, rel, ws.limits.max_line_chars, cap + 1 - len(out))
        if len(out) > cap:
            stopped = "match limit"
            break
        if time.monotonic() > deadline:
            stopped = "time limit"
            break
    return ok(
        output="\n".join(out[:cap]),
        matches=min(len(out), cap),
        files_searched=searched,
        files_skipped=skipped,
        truncated=bool(stopped),
        stopped_by=stopped or None,
    )


def make_grep(settings: Settings) -> BaseTool:
    """The grep tool over the settings' workspace."""
    ws = Workspace.of(settings)

    def grep(
        pattern: str,
        path: str = ".",
        glob: str = "",
        ignore_case: bool = False,
        max_matches: int = 100,
    ) -> ToolResult:
        r"""Search workspace files for a regular expression; prints "path:line:text" lines.

        Binary, very large and .gitignore'd files are skipped, like ripgrep does.

        Args:
            pattern: A Python regular expression, e.g. "def sub\(" or "TODO|FIXME".
            path: A folder or file to search, relative to the workspace.
            glob: Only files matching this gitignore-style glob, e.g. "*.py".
            ignore_case: Match without regard to case.
            max_matches: Return at most this many matching lines.
        """
        regex = _compile(pattern, ignore_case)
        cap = max(1, min(max_matches, ws.limits.max_matches))
        return grep_in(ws, regex, _under(ws, path), glob, cap)

    return declare(
        make_tool(grep),
        effect=Effect.READ_ONLY,
        output_trust=Trust.UNTRUSTED,
        args={"pattern": "text", "path": "path", "glob": "path"},
    )

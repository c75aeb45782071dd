"""``read_file``: a range of lines of a workspace text file, with the hash edits pin to."""

from __future__ import annotations

from langchain_core.tools import BaseTool

from autan.config import Settings
from autan.errors import UserInputError
from autan.tools.base import ToolResult, make_tool, ok
from autan.tools.spec import Effect, Trust, declare
from autan.tools.workspace.paths import Workspace, digest, looks_binary


def read_text(
    ws: Workspace, path: str, start_line: int, end_line: int | None, max_bytes: int
) -> ToolResult:
    """Lines ``start_line``..``end_line`` (1-based, inclusive) of a text file, capped in bytes."""
    if start_line < 1 or (end_line is not None and end_line < start_line):
        raise UserInputError(
            f"bad line range {start_line}..{end_line}", hint="lines count from 1; end >= start"
        )
    real, data, _ = ws.read_bytes(path)
    assert data is not None  # read_bytes raises NotFoundError for a missing file when reading
    try:  # the whole file was read, so any byte that is not UTF-8 means binary
        whole = None if looks_binary(data) else data.decode("utf-8")
    except UnicodeDecodeError:
        whole = None
    if whole is None:
        raise UserInputError(
            f"{path!r} is a binary file, not UTF-8 text ({len(data)} bytes); "
            "read_file reads text only",
            hint="inspect it with the python tool in the sandbox",
        )
    lines = whole.splitlines(keepends=True)
    chosen = lines[start_line - 1 : end_line]
    text = "".join(chosen)
    cap = max(0, min(max_bytes, ws.limits.max_read_bytes))
    raw = text.encode("utf-8")
    truncated = len(raw) > cap
    if truncated:
        text = raw[:cap].decode("utf-8", errors="ignore")
    last = start_line + len(chosen) - 1 if chosen else start_line - 1
    return ok(
        path=ws.rel(real),
        text=text,
        start_line=start_line,
        end_line=last,
        total_lines=len(lines),
        truncated=truncated,
        sha256=digest(data),
    )


def make_read_file(settings: Settings) -> BaseTool:
    """The read_file tool, confined to the settings' workspace directory."""
    ws = Workspace.of(settings)

    def read_file(
        path: str, start_line: int = 1, end_line: int | None = None, max_bytes: int = 100_000
    ) -> ToolResult:
        """Read a UTF-8 text file from the workspace, whole or a range of lines.

        Binary files and directories are refused with a clear error. "sha256" is the hash of
        the whole file: pass it to edit_file as base to be sure you edit what you read.

        Args:
            path: Path relative to the workspace directory.
            start_line: First line to return (1-based).
            end_line: Last line to return (inclusive); omit for the end of the file.
            max_bytes: Return at most this many bytes of text.
        """
        return read_text(ws, path, start_line, end_line, max_bytes)

    return declare(
        make_tool(read_file),
        effect=Effect.READ_ONLY,
        output_trust=Trust.UNTRUSTED,
        args={"path": "path"},
        structure=["path", "start_line", "end_line", "total_lines", "sha256"],  # not the text
    )

"""Tools only automations get: ``write_file`` (workspace-confined, atomic, naturally idempotent)."""

from __future__ import annotations

import os
import tempfile

from langchain_core.tools import BaseTool

from autan.config import Settings
from autan.tools.base import ToolResult, make_tool, ok
from autan.tools.builtin import confine
from autan.tools.spec import Effect, Trust, declare

MAX_BYTES = 5_000_000


def make_write_file(settings: Settings) -> BaseTool:
    """write_file: replace a workspace file's content atomically (a repeat writes the same)."""
    workspace = settings.workspace

    def write_file(path: str, content: str) -> ToolResult:
        """Write UTF-8 text to a file in the workspace, replacing it.

        Args:
            path: Path relative to the workspace directory.
            content: The full text to write.
        """
        target = confine(workspace, path)
        data = content.encode("utf-8")[:MAX_BYTES]
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        return ok(path=str(target.relative_to(workspace.resolve())), bytes=len(data))

    return declare(
        make_tool(write_file),
        effect=Effect.LOCAL_WRITE,
        output_trust=Trust.TRUSTED,
        args={"path": "path", "content": "text"},
    )


WORKFLOW_TOOLS = {"write_file": make_write_file}

"""The ``python`` and ``run_command`` tools: code and commands in one sandbox session per name."""

from __future__ import annotations

from langchain_core.tools import BaseTool

from autan.config import Settings
from autan.errors import UserInputError
from autan.tools.base import ToolResult, make_tool
from autan.tools.resources import ToolResources
from autan.tools.sandbox.limits import Limits
from autan.tools.sandbox.result import ExecResult
from autan.tools.sandbox.session import Session
from autan.tools.spec import Effect, Trust, declare


def _limits(box: Session, timeout_s: float | None) -> Limits:
    return box.resolve({"timeout_s": timeout_s})


def make_python_tool(settings: Settings, resources: ToolResources | None = None) -> BaseTool:
    """The ``python`` tool: a persistent, isolated Python session (see docs/sandbox.md).

    Its sessions live in ``resources`` (the registry's, shared with ``run_command``), or in a
    pool of its own when none is given.
    """
    held = resources or ToolResources(settings)

    def python(
        code: str, session: str = "default", reset: bool = False, timeout_s: float | None = None
    ) -> ToolResult:
        """Run Python 3 code in an isolated sandbox session that keeps variables between calls.

        Print what you need to see. No network; only the standard library; files you write stay
        in the session's scratch directory (the current directory).

        Args:
            code: Python source to run.
            session: Session name; calls with the same name share variables and files.
            reset: Start the session afresh (forget variables and files) before running.
            timeout_s: Wall-clock limit of this call in seconds (default from settings).
        """
        try:
            box = held.sandbox().get(session)
            limits = _limits(box, timeout_s)
        except UserInputError as exc:
            return ExecResult.from_error(exc).to_dict()
        if reset:
            box.close()
        return box.run(code, limits).to_dict()

    return declare(
        make_tool(python), effect=Effect.CODE, output_trust=Trust.UNTRUSTED, args={"code": "code"}
    )


def make_run_command_tool(settings: Settings, resources: ToolResources | None = None) -> BaseTool:
    """The ``run_command`` tool: a shell command in the same sandbox as ``python``."""
    held = resources or ToolResources(settings)

    def run_command(
        command: str, session: str = "default", timeout_s: float | None = None
    ) -> ToolResult:
        """Run a shell command (for example "pytest -q" or "ls -la") inside the sandbox.

        It runs with /bin/sh in the session's scratch directory, which holds a copy of the
        workspace in workspace mode; changed files come back in "files" with a diff.

        Args:
            command: The shell command line.
            session: Session name, shared with the python tool.
            timeout_s: Wall-clock limit in seconds (default from settings).
        """
        try:
            box = held.sandbox().get(session)
            limits = _limits(box, timeout_s)
        except UserInputError as exc:
            return ExecResult.from_error(exc).to_dict()
        return box.command(command, limits).to_dict()

    return declare(
        make_tool(run_command),
        effect=Effect.CODE,
        output_trust=Trust.UNTRUSTED,
        args={"command": "command"},
    )

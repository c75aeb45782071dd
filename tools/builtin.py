"""Built-in tools that need nothing but the standard library: calculator, clock, file reader."""

from __future__ import annotations

import ast
import math
import operator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from langchain_core.tools import BaseTool

from autan.config import Settings
from autan.errors import SecurityViolation, UserInputError
from autan.tools.base import ToolResult, make_tool, ok
from autan.tools.spec import Effect, Trust, declare

_BINARY: dict[type[ast.operator], Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Any] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_NAMES: dict[str, Any] = {
    name: getattr(math, name)
    for name in ("pi", "e", "tau", "sqrt", "sin", "cos", "tan", "log", "log10", "log2", "exp")
} | {"abs": abs, "round": round, "min": min, "max": max}
_MAX_EXPONENT = 10_000
_MAX_EXPRESSION = 1_000


def _eval(node: ast.AST) -> Any:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > _MAX_EXPONENT:
            raise UserInputError(f"exponent {right} is too large (limit {_MAX_EXPONENT})")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        func = _NAMES.get(node.func.id)
        if callable(func):
            return func(*(_eval(a) for a in node.args))
    raise UserInputError(f"unsupported expression element: {ast.dump(node)[:60]}")


def calculate(expression: str) -> ToolResult:
    """Evaluate an arithmetic expression exactly, without eval.

    Args:
        expression: Arithmetic such as "2 * (3 + 4) ** 2" or "sqrt(2) / 3"; + - * / // % **,
            parentheses and math functions (sqrt, sin, cos, tan, log, exp, pi, e) are allowed.
    """
    if len(expression) > _MAX_EXPRESSION:
        raise UserInputError(f"expression longer than {_MAX_EXPRESSION} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise UserInputError(f"not an arithmetic expression: {exc.msg}") from None
    try:
        value = _eval(tree)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError) as exc:
        raise UserInputError(f"cannot evaluate {expression!r}: {exc}") from None
    return ok(expression=expression, value=value)


def current_time(timezone: str = "UTC") -> ToolResult:
    """Tell the current date and time.

    Args:
        timezone: An IANA time zone name such as "UTC" or "Europe/Paris".
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserInputError(f"unknown time zone {timezone!r}", hint="use an IANA name") from None
    now = datetime.now(UTC).astimezone(zone)
    return ok(iso=now.isoformat(timespec="seconds"), timezone=timezone, weekday=now.strftime("%A"))


def confine(workspace: Path, path: str) -> Path:
    """Resolve ``path`` inside ``workspace``; refuse ``..`` and symlink escapes."""
    root = workspace.resolve()
    candidate = (root / path).resolve()
    if candidate != root and root not in candidate.parents:
        raise SecurityViolation(
            f"path {path!r} resolves outside the workspace {root}",
            rule="workspace-confinement",
            hint="use a path inside the workspace",
        )
    return candidate


def utf8_text(data: bytes, path: str, cut: bool = False) -> str:
    """``data`` as text; ``UserInputError`` for binary files (a cut may split the last char)."""
    try:
        if b"\x00" in data[:8192]:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if cut and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8")
        raise UserInputError(
            f"{path} is not a UTF-8 text file (binary data)", hint="read_file reads text files only"
        ) from None


def make_read_file(settings: Settings) -> BaseTool:
    """The read_file tool, confined to the settings' workspace directory."""
    workspace = settings.workspace

    def read_file(path: str, max_bytes: int = 100_000) -> ToolResult:
        """Read a UTF-8 text file from the workspace.

        Args:
            path: Path relative to the workspace directory.
            max_bytes: Read at most this many bytes.
        """
        target = confine(workspace, path)
        if target.is_dir():
            raise UserInputError(f"{path} is a directory, not a file", hint="name a file inside it")
        if not target.is_file():
            raise UserInputError(f"no such file in the workspace: {path}")
        data = target.read_bytes()[: max(0, max_bytes) + 1]
        truncated = len(data) > max_bytes
        text = utf8_text(data[:max_bytes], path, cut=truncated)
        return ok(path=str(target.relative_to(workspace.resolve())), text=text, truncated=truncated)

    return declare(
        make_tool(read_file),
        effect=Effect.READ_ONLY,
        output_trust=Trust.UNTRUSTED,
        args={"path": "path"},
    )


def make_calculator(settings: Settings) -> BaseTool:
    """The calculator tool."""
    return declare(
        make_tool(calculate, name="calculator"),
        effect=Effect.READ_ONLY,
        output_trust=Trust.TRUSTED,
    )


def make_current_time(settings: Settings) -> BaseTool:
    """The current_time tool."""
    return declare(make_tool(current_time), effect=Effect.READ_ONLY, output_trust=Trust.TRUSTED)

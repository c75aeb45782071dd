"""Built-in tools that need nothing but the standard library: calculator and clock."""

from __future__ import annotations

import ast
import math
import operator
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from langchain_core.tools import BaseTool
from pydantic import Field

from autan.config import Settings
from autan.errors import UserInputError
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
# The characters arithmetic is written in, starting with an operand and ending with one; the
# schema states it so a grammar-constrained model cannot write anything else.
EXPRESSION_PATTERN = r"^[-+( ]*[0-9a-z]([0-9a-z_+*/%()., -]*[0-9a-z)])?$"
Expression = Annotated[str, Field(pattern=EXPRESSION_PATTERN)]


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


def calculate(expression: Expression) -> ToolResult:
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

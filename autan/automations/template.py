"""Sandboxed Jinja2 for flow templates: strings render to text, a lone ``{{ expr }}`` to a value.

Templates see ``vars``, ``steps`` (outputs by step id) and, inside a map, the item name. The
sandbox refuses attribute tricks (``__class__`` and friends); undefined names are errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, Undefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from autan.errors import SecurityViolation, UserInputError

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_LONE = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}).)*)\}\}\s*$", re.S)


def check_syntax(text: str) -> str | None:
    """The syntax problem of a template, or None when it parses (plain text always does)."""
    if "{{" not in text and "{%" not in text:
        return None
    try:
        _ENV.parse(text)
    except TemplateSyntaxError as exc:
        return exc.message or "syntax error"
    return None


def _fail(where: str, exc: Exception) -> Exception:
    if isinstance(exc, SecurityError):
        return SecurityViolation(
            f"{where}: the template sandbox refused: {exc}",
            rule="jinja",
            hint="templates read vars, steps and filters, not Python internals",
        )
    return UserInputError(
        f"{where}: template error: {exc}",
        hint="use names the flow defines: vars.<name>, steps.<id>, or the map's item",
    )


def render_value(value: Any, context: Mapping[str, Any], where: str = "template") -> Any:
    """Render strings inside ``value`` (recursively); ``{{ expr }}`` alone keeps its type."""
    if isinstance(value, dict):
        return {k: render_value(v, context, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, context, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
        return value
    try:
        lone = _LONE.match(value)
        if lone:
            out = _ENV.compile_expression(lone["expr"], undefined_to_none=False)(**context)
            if isinstance(out, Undefined):  # a missing name or a refused attribute
                out._fail_with_undefined_error()
            return out
        return _ENV.from_string(value).render(**context)
    except (TemplateError, SecurityError, TypeError, ValueError, KeyError) as exc:
        raise _fail(where, exc) from None


def render_text(value: str, context: Mapping[str, Any], where: str = "template") -> str:
    """Render a template to text."""
    out = render_value(value, context, where)
    return out if isinstance(out, str) else _as_text(out)


def _as_text(value: Any) -> str:
    import json

    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def condition(expr: str, context: Mapping[str, Any], where: str = "condition") -> bool:
    """Evaluate a branch condition, written with or without ``{{ }}``."""
    text = expr.strip()
    if not text.startswith("{{"):
        text = "{{ " + text + " }}"
    value = render_value(text, context, where)
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0", "no", "none", "null")
    return bool(value)

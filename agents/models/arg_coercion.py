"""Tool-call arguments coerced to their parameter schema's types, only when nothing is lost.

Small models often write ``"3"`` for an integer or ``"true"`` for a boolean, and some write a list
as a JSON string. A value is converted only when the conversion is exact (``"3"`` becomes 3,
``"3.5"`` does not become an integer); anything else is left for the tool or the checker to refuse.
A parameter declared ``float`` (``format: float`` after schema_types.py) gets 3.0 for 3.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

_INT = re.compile(r"^[+-]?\d+$")
_BOOLS = {"true": True, "false": False}


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    return [k for k in kind if isinstance(k, str)] if isinstance(kind, list) else []


def _to_int(value: Any) -> Any:
    if isinstance(value, str) and _INT.match(value.strip()):
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _to_number(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if _INT.match(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return value
    return number if math.isfinite(number) else value


def _from_json(value: Any, kind: type) -> Any:
    if not isinstance(value, str):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return parsed if isinstance(parsed, kind) else value


def _scalar(value: Any, kind: str) -> Any:
    if isinstance(value, bool):
        return value
    if kind == "integer":
        return _to_int(value)
    if kind == "number":
        return _to_number(value)
    if kind == "boolean" and isinstance(value, str):
        return _BOOLS.get(value.strip().lower(), value)
    if kind == "string" and isinstance(value, int | float):
        return str(value)
    return value


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def _matches(value: Any, kind: str) -> bool:
    check = _CHECKS.get(kind)
    return bool(check and check(value))


def coerce(value: Any, schema: Any) -> Any:
    """``value`` converted to the type ``schema`` declares, when that is exact; else unchanged."""
    if not isinstance(schema, dict):
        return value
    kinds = _types(schema)
    if kinds and not any(_matches(value, k) for k in kinds):
        for kind in kinds:
            if kind == "array":
                candidate = _from_json(value, list)
            elif kind == "object":
                candidate = _from_json(value, dict)
            else:
                candidate = _scalar(value, kind)
            if _matches(candidate, kind):
                value = candidate
                break
    if schema.get("format") in ("float", "double") and type(value) is int and abs(value) < 2**53:
        return float(value)  # a float parameter gets a float, also inside lists (BFCL checks)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [coerce(v, schema["items"]) for v in value]
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        return coerce_args(value, schema)
    return value


def coerce_args(args: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A call's arguments with each known parameter coerced to its schema."""
    props = schema.get("properties") or {}
    return {k: coerce(v, props[k]) if k in props else v for k, v in args.items()}


def coerce_calls(
    calls: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """LangChain tool calls with arguments coerced against the bound tools' parameter schemas."""
    schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools}
    return [
        {**c, "args": coerce_args(c["args"], schemas[c["name"]])} if c["name"] in schemas else c
        for c in calls
    ]

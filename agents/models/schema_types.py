"""Tool parameter schemas in plain JSON Schema, the same way for every model and decoding mode.

Tool definitions written for other ecosystems use type names JSON Schema does not have (BFCL's
``dict``, ``float``, ``tuple`` and ``any``; Python's ``int``, ``str``, ``bool``, ``list``). They are
mapped to their JSON Schema equivalents before a model sees them, so a constrained grammar and a
prompt describe the same thing; a type that has no equivalent is refused with a clear error.
"""

from __future__ import annotations

from typing import Any

from autan.errors import UserInputError

JSON_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})
ALIASES = {
    "dict": "object",
    "map": "object",
    "float": "number",
    "double": "number",
    "int": "integer",
    "long": "integer",
    "str": "string",
    "bool": "boolean",
    "list": "array",
    "tuple": "array",
    "set": "array",
}
ANY = frozenset({"any", "Any", "object?"})
FLOATS = frozenset({"float", "double"})


def _type(value: Any, where: str) -> Any:
    if isinstance(value, list):
        return [_type(v, where) for v in value]
    if not isinstance(value, str) or value in JSON_TYPES:
        return value
    if value in ALIASES:
        return ALIASES[value]
    raise UserInputError(
        f"tool parameter {where} has type {value!r}, which JSON Schema does not know",
        hint=f"use one of {sorted(JSON_TYPES)}",
    )


def normalise_schema(schema: Any, where: str = "parameters") -> Any:
    """``schema`` with every ``type`` in JSON Schema's vocabulary (``any`` drops the type)."""
    if isinstance(schema, list):
        return [normalise_schema(s, where) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type":
            if value in ANY:
                continue
            out[key] = _type(value, where)
            if value in FLOATS and "format" not in schema:
                out["format"] = value  # OpenAPI's way to say a number is a float: written 3.0
        elif key == "properties" and isinstance(value, dict):
            out[key] = {k: normalise_schema(v, f"{where}.{k}") for k, v in value.items()}
        else:
            out[key] = normalise_schema(value, where)
    return out


def normalise_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI-format tool with its parameter schema normalised."""
    fn = dict(tool["function"])
    if "parameters" in fn:
        fn["parameters"] = normalise_schema(fn["parameters"], fn.get("name", "tool"))
    return {**tool, "function": fn}

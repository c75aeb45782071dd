"""How tools are shown to a model with no tool tokens, and how its forced calls are opened.

Tools are listed as signatures, ``name(arg: type, opt: type = default)`` with their
descriptions, rather than as JSON schemas: a small model asked to write a JSON call next to JSON
schemas copies the schema (``"description"``, ``"properties"``) instead of filling arguments.
The call shape is shown with neutral placeholders, never a real tool with made-up values.

When a call is forced and no grammar constrains decoding, the reply is started with the call's
opening text (a prefill): ``{"name": "`` to let the model pick a tool, or the whole
``{"name": "<tool>", "arguments": {`` when only one tool may be called. The model writes the
rest freely; nothing checks it against the schema while it is written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

TOOLS_PROMPT = (
    "You can call tools. To call one, reply with only a JSON object of the form "
    '{"name": "<tool name>", "arguments": {"<argument>": <value>}} '
    "(a JSON list of such objects for several calls) and nothing else; take the tool name and "
    "the argument names from the list below and the values from the conversation. Otherwise "
    "answer in plain text.\nTools:\n"
)


def type_text(schema: Any) -> str:
    """A short type name for a parameter schema: ``integer``, ``array of string``, ``"a" | "b"``."""
    if not isinstance(schema, dict):
        return "any"
    if isinstance(schema.get("enum"), list):
        return " | ".join(json.dumps(v) for v in schema["enum"])
    options = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(options, list):
        return " | ".join(type_text(o) for o in options)
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind == "array":
        return f"array of {type_text(schema.get('items'))}" if "items" in schema else "array"
    props = schema.get("properties")
    if isinstance(props, dict) and props:
        return "{" + ", ".join(f"{k}: {type_text(v)}" for k, v in props.items()) + "}"
    return str(kind) if kind else "any"


def signature(function: dict[str, Any]) -> str:
    """One tool as ``name(arg: type, ...)``, its description, then one line per argument."""
    params = function.get("parameters") or {}
    props: dict[str, Any] = params.get("properties") or {}
    required = set(params.get("required") or ())
    heads, docs = [], []
    for name, schema in props.items():
        head = f"{name}: {type_text(schema)}"
        if name not in required:
            default = schema.get("default") if isinstance(schema, dict) else None
            head += f" = {json.dumps(default)}" if default is not None else " (optional)"
        heads.append(head)
        text = schema.get("description", "") if isinstance(schema, dict) else ""
        if text:
            docs.append(f"    {name}: {text}")
    lines = [f"{function['name']}({', '.join(heads)})"]
    if function.get("description"):
        lines.append(f"    {function['description']}")
    return "\n".join(lines + docs)


def describe_tools(tools: Sequence[dict[str, Any]]) -> str:
    """The tool section of the system prompt: the neutral call shape, then each tool's signature.

    The shape has placeholders only (no real tool with made-up values), so a small model has
    nothing to copy but the form.
    """
    return TOOLS_PROMPT + "\n".join(signature(t["function"]) for t in tools)


def call_opener(tools: Sequence[dict[str, Any]]) -> str:
    """The start of a forced call's reply: the tool's name as well when only one can be called."""
    if len(tools) == 1:
        return f'{{"name": {json.dumps(tools[0]["function"]["name"])}, "arguments": {{'
    return '{"name": "'

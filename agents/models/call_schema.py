"""What a constrained call's tool schemas say, and where the conversation's text names a word.

Shared by the shape and number biases: each tool's parameters, the schema of the container a
call stands in, and the first letters by which the text names a key's words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from autan.agents.models.call_text import Frame

STEM = 5  # letters of a word that name it: "variance" is named by "varia..."


def stems(key: str) -> list[bytes]:
    """The first letters that name each word of ``key`` (``equal_variance``: equal, varia)."""
    parts = re.findall(r"[A-Z]?[a-z]+|\d+", key)
    return list(dict.fromkeys(p.lower()[:STEM].encode() for p in parts if len(p) >= 3))


def namings(source: bytes, key: str) -> list[int]:
    """Where lower-cased ``source`` names one of ``key``'s words, by its first letters."""
    return [at for stem in stems(key) for at in naming(source, stem)]


def naming(source: bytes, stem: bytes) -> list[int]:
    """Where lower-cased ``source`` has a word that starts with ``stem``."""
    return [m.start() for m in re.finditer(rb"(?<![a-z0-9])" + re.escape(stem), source)]


def parameters(tools: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Each tool's parameters' schema, by the tool's name."""
    return {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools}


def container_schema(params: Mapping[str, Any], stack: Sequence[Frame]) -> dict[str, Any] | None:
    """The schema of the innermost open container, when it lies inside a call's arguments.

    ``params`` maps each tool's name to its parameters' schema.
    """
    if stack and stack[0].kind == "[":
        stack = stack[1:]
    if len(stack) < 2 or stack[1].kind != "{" or stack[0].key != "arguments":
        return None
    schema: Any = params.get(stack[0].strings.get("name", ""))
    for parent in stack[1:-1]:
        if not isinstance(schema, dict):
            return None
        if parent.kind == "[":
            schema = schema.get("items")
        else:
            schema = properties(schema).get(parent.key or "")
    return schema if isinstance(schema, dict) else None


def enum(prop: Any) -> list[str]:
    """The string choices a property, or its items, are limited to."""
    if not isinstance(prop, dict):
        return []
    values = prop.get("enum")
    return [c for c in values if isinstance(c, str)] if isinstance(values, list) else choices(prop)


def choices(schema: dict[str, Any]) -> list[str]:
    """The string choices an array's items are limited to, if any."""
    items = schema.get("items")
    enum = items.get("enum") if isinstance(items, dict) else None
    return [c for c in enum if isinstance(c, str)] if isinstance(enum, list) else []


def properties(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema's properties, or none when it has no readable ones."""
    props = schema.get("properties")
    return props if isinstance(props, dict) else {}

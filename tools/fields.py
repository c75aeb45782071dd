"""Field-level provenance: which parts of a result the platform set, which a third party wrote.

A tool declares the *structure* of its result (``ToolSpec.structure``): field paths whose values
the platform itself sets (ids, timestamps, sender and recipient headers, channel and member
lists, file names, a fetched page's final URL and status). Everything else in an untrusted
result (bodies, descriptions, message text, file contents, web pages) stays free text a third
party could have written. A path is dot-separated keys from the result's top level; lists are
crossed transparently (``output.sender`` is the sender of every message in ``output``) and ``*``
matches any key. A path that ends on a dict or list takes the whole subtree, keys included.

A *record* is one object whose structure fields carry values: each element of the first list a
path crosses or ends on (one mail, one file, one channel), or the whole result when no path
reaches a list.
The ledger keeps each record's structure values apart (``records``): a value of a record
the user names vouches whatever free text also holds it (tools/provenance.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autan.tools.provenance import ledger_text, strings
from autan.tools.spec import Trust

_GONE = object()  # a subtree taken whole into the structure


Record = tuple[list[str], Any]  # a record's structure values and the rest of that record


def records(value: Any, paths: Sequence[str]) -> tuple[list[Record], Any]:
    """Each record of ``value`` (its structure values, its free rest), and ``value`` without them.

    Values found outside any list form one more record whose free rest is the whole result.
    """
    if not paths:
        return [], value
    found: list[Record] = []
    top: list[str] = []
    rest = _records(value, [tuple(p.split(".")) for p in paths], found, top)
    rest = None if rest is _GONE else rest
    return found + ([(top, rest)] if top else []), rest


def split(value: Any, paths: Sequence[str]) -> tuple[list[str], Any]:
    """The strings under the structural ``paths`` of ``value``, and ``value`` without them."""
    found, rest = records(value, paths)
    return [v for values, _ in found for v in values], rest


def _records(value: Any, paths: list[tuple[str, ...]], found: list[Record], top: list[str]) -> Any:
    if isinstance(value, list | tuple):
        kept = []
        for item in value:
            values: list[str] = []
            rest = _split(item, paths, values)
            if values:
                found.append((values, None if rest is _GONE else rest))
            if rest is not _GONE:
                kept.append(rest)
        return kept if kept or all(paths) else _GONE  # a path that ends on a list takes it
    if isinstance(value, dict) and all(paths):
        out: dict[Any, Any] = {}
        for key, v in value.items():
            sub = [p[1:] for p in paths if p[0] in (str(key), "*")]
            kept = _records(v, sub, found, top) if sub else v
            if kept is not _GONE:
                out[key] = kept
        return out
    return _split(value, paths, top)


def _split(value: Any, paths: list[tuple[str, ...]], found: list[str]) -> Any:
    if any(not p for p in paths):  # a path ends here: the whole subtree is structure
        found.extend(strings(value))
        return _GONE
    if isinstance(value, list | tuple):
        kept = (_split(v, paths, found) for v in value)
        return [v for v in kept if v is not _GONE]
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, v in value.items():
            sub = [p[1:] for p in paths if p[0] in (str(key), "*")]
            kept = _split(v, sub, found) if sub else v
            if kept is not _GONE:
                out[key] = kept
        return out
    return value


def has_text(value: Any) -> bool:
    """Whether ``value`` holds any string or number besides dict keys (a result's free text)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, dict):
        return any(has_text(v) for v in value.values())
    if isinstance(value, list | tuple | set):
        return any(has_text(v) for v in value)
    return str(value).strip() != ""


def entry(
    trust: Trust,
    origin: str,
    raw: Any,
    structure: Sequence[str] = (),
    endorsed: bool = False,
    **how: bool,
) -> dict[str, Any]:
    """A raw result as a ledger entry kept in state: free text apart from structure values.

    ``structure`` is the tool's declared structure field paths; they are split out only of an
    untrusted result (a trusted one vouches whole), one list of values per record. ``how``: the
    ``links`` and ``addressed`` flags (tools/delegation.py).
    """
    found, rest = records(raw, structure) if trust == Trust.UNTRUSTED else ([], raw)
    return {
        "trust": trust.value,
        "origin": origin,
        "text": ledger_text(rest) if has_text(rest) else "",
        "endorsed": endorsed,
        **how,
        "structure": [values for values, _ in found],
    }

"""Tool calls from model text: JSON parsed leniently, repaired when truncated, never dropped.

A model's call text becomes ``tool_calls`` (LangChain ``ToolCall`` dicts) when it parses, and
``invalid_tool_calls`` when it cannot be repaired, so the planner can show the model its error.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any

from autan.agents.models.base import new_tool_call_id

_ID = re.compile(r"^[A-Za-z0-9]{9}$")
_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
_FENCED = re.compile(r"^```(?:json)?\s*(.*?)\s*(?:```)?$", re.S)
_CLOSERS = {"{": "}", "[": "]"}
_PY_CONSTANTS = re.compile(r'"(?:\\.|[^"\\])*"|\b(True|False|None)\b')
_AS_JSON = {"True": "true", "False": "false", "None": "null"}


@dataclass
class ParsedCalls:
    """Calls that parsed and those that did not, in the order the model wrote them."""

    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    invalid_tool_calls: list[dict[str, Any]] = field(default_factory=list)


def _close_truncated(text: str) -> str:
    """Close strings, objects and arrays a truncated completion left open."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in _CLOSERS:
            stack.append(_CLOSERS[ch])
        elif ch in "}]" and stack and stack[-1] == ch:
            stack.pop()
    tail = text + ('"' if in_string else "")
    tail = re.sub(r"[,:]\s*$", "", tail.rstrip())
    return tail + "".join(reversed(stack))


def _json_constant(match: re.Match[str]) -> str:
    """Python's ``True``/``False``/``None`` outside strings as JSON's; strings unchanged."""
    return _AS_JSON[match.group(1)] if match.group(1) else match.group(0)


def loads_lenient(text: str) -> Any:
    """``json.loads`` that also accepts fences, trailing prose, trailing commas, truncation."""
    body = text.strip()
    fenced = _FENCED.match(body)
    if fenced:
        body = fenced.group(1)
    start = min((i for i in (body.find("["), body.find("{")) if i >= 0), default=-1)
    if start < 0:
        raise ValueError("no JSON object or array found")
    body = _PY_CONSTANTS.sub(_json_constant, body[start:])
    attempts = (body, re.sub(r",\s*([}\]])", r"\1", body))
    for candidate in (*attempts, _close_truncated(attempts[1])):
        try:
            value, _ = json.JSONDecoder().raw_decode(candidate)
            return value
        except json.JSONDecodeError:
            continue
    raise ValueError("not valid JSON and could not be repaired")


def _as_call(item: Any) -> tuple[str, Any, str | None]:
    """Name, arguments and id of one call in any of the shapes models write."""
    if not isinstance(item, dict):
        raise ValueError(f"a tool call must be an object, got {type(item).__name__}")
    fn: dict[str, Any] = item["function"] if isinstance(item.get("function"), dict) else item
    name = fn.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("the tool call has no name")
    args: Any = next((fn[k] for k in ("arguments", "parameters", "args") if k in fn), {})
    if isinstance(args, str):
        args = loads_lenient(args) if args.strip() else {}
    if not isinstance(args, dict):
        raise ValueError(f"arguments of {name!r} must be an object")
    call_id = item.get("id") if isinstance(item.get("id"), str) else None
    return name, args, call_id


def _items(value: Any) -> list[Any]:
    if isinstance(value, dict) and isinstance(value.get("tool_calls"), list):
        return list(value["tool_calls"])
    return list(value) if isinstance(value, list) else [value]


def parse_calls(text: str) -> ParsedCalls:
    """Every call in ``text`` (one object, a list, ``{"tool_calls": [...]}`` or tagged)."""
    out = ParsedCalls()
    tagged = _TAGGED.findall(text)
    chunks = tagged or [text]
    for chunk in chunks:
        try:
            items = _items(loads_lenient(chunk))
        except ValueError as exc:
            out.invalid_tool_calls.append(_invalid(chunk, str(exc)))
            continue
        for item in items:
            try:
                name, args, call_id = _as_call(item)
            except ValueError as exc:
                out.invalid_tool_calls.append(_invalid(json.dumps(item), str(exc)))
                continue
            good_id = call_id if call_id and _ID.match(call_id) else new_tool_call_id()
            out.tool_calls.append({"name": name, "args": args, "id": good_id, "type": "tool_call"})
    return out


def _invalid(args: str, error: str, name: str | None = None) -> dict[str, Any]:
    guess = re.search(r'"name"\s*:\s*"([^"]+)"', args)
    return {
        "name": name or (guess.group(1) if guess else None),
        "args": args,
        "id": new_tool_call_id(),
        "error": error,
        "type": "invalid_tool_call",
    }


def cut_off(text: str, limit: int) -> ParsedCalls:
    """Calls from a reply that hit the token limit: complete ones kept, the cut one invalid."""
    body = text.strip()
    body = body[1:] if body.startswith("[") else body
    decoder, complete, at = json.JSONDecoder(), [], 0
    while True:
        at += len(body[at:]) - len(body[at:].lstrip(" ,\n"))
        try:
            item, end = decoder.raw_decode(body, at)
        except json.JSONDecodeError:
            break
        complete.append(item)
        at = end
    out = parse_calls(json.dumps(complete)) if complete else ParsedCalls()
    rest = body[at:].strip()
    if rest and rest != "]":
        error = f"the reply was cut off at max_new_tokens={limit}; this call is incomplete"
        out.invalid_tool_calls.append(_invalid(rest, error))
    return out


def looks_like_call(text: str) -> bool:
    """True when a whole completion is a call rather than prose (prompted-JSON models)."""
    body = text.lstrip()
    markers = ("<tool_call>", "```json")
    return body.startswith(("{", "[", *markers)) or any(m.startswith(body) for m in markers)


_FENCE_ANY = re.compile(r"```[A-Za-z_]*\s*\n?(.*?)(?:```|$)", re.S)
_CONSTANTS = {"true": True, "false": False, "null": None, "none": None}


def _literal(node: ast.expr) -> Any:
    """A Python or JSON literal (``true``/``null`` as well as ``True``/``None``)."""
    if isinstance(node, ast.Name) and node.id.lower() in _CONSTANTS:
        return _CONSTANTS[node.id.lower()]
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [_literal(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values, strict=True) if k}
    return ast.literal_eval(node)


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    raise ValueError("not a function name")


def python_calls(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Calls in Python syntax, ``[f(a=1), g(b="x")]`` or ``f(a=1)``, keyword arguments only."""
    tree = ast.parse(text.strip(), mode="eval").body
    nodes = tree.elts if isinstance(tree, ast.List | ast.Tuple) else [tree]
    calls = []
    for node in nodes:
        if not isinstance(node, ast.Call) or node.args:
            raise ValueError("not a call with keyword arguments")
        args = {kw.arg: _literal(kw.value) for kw in node.keywords if kw.arg}
        calls.append((_dotted(node.func), args))
    return calls


def _known(name: str, names: frozenset[str]) -> str | None:
    for candidate in (name, name.replace(".", "_")):
        if candidate in names:
            return candidate
    return None


def _python_parsed(text: str, names: frozenset[str]) -> ParsedCalls:
    try:
        found = python_calls(text)
    except (SyntaxError, ValueError, TypeError, RecursionError):
        return ParsedCalls()
    out = ParsedCalls()
    if found and all(_known(n, names) for n, _ in found):
        for name, args in found:
            call = {"name": _known(name, names), "args": args, "id": new_tool_call_id()}
            out.tool_calls.append({**call, "type": "tool_call"})
    return out


def _candidates(text: str, search: bool) -> list[str]:
    """Pieces of a reply that may hold calls: tagged, fenced, the whole, then inner spans."""
    body = text.strip()
    pieces = _TAGGED.findall(body) + [m.strip() for m in _FENCE_ANY.findall(body)] + [body]
    if search:
        starts = [m.start() for m in re.finditer(r"[\[{]", body)][:8]
        pieces += [body[i:] for i in starts]
        pieces += [body[m.start() :] for m in re.finditer(r"\b[A-Za-z_][\w.]*\(", body)][:8]
    return [p for p in pieces if p]


def extract_calls(text: str, names: frozenset[str], *, search: bool = False) -> ParsedCalls:
    """Calls to the tools ``names`` in the formats small models write, or none.

    JSON (an object, a list, ``{"tool_calls": [...]}``), ``<tool_call>`` tags, fenced code and
    Python call syntax. The whole reply must be the call unless ``search`` (a call was asked
    for), which also looks for one after leading prose. Calls to unknown names do not count.
    """
    for piece in _candidates(text, search):
        parsed = _python_parsed(_balanced(piece), names)
        if not parsed.tool_calls and piece[:1] in "[{":
            try:
                items = _items(loads_lenient(piece))
                parsed = parse_calls(json.dumps(items))
            except (ValueError, TypeError):
                parsed = ParsedCalls()
        if parsed.tool_calls and all(c["name"] in names for c in parsed.tool_calls):
            return parsed
    return ParsedCalls()


def group_end(text: str) -> int:
    """Where the bracket group ``text`` opens closes (brackets in strings ignored), or -1."""
    depth, quote, escaped = 0, "", False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif quote:
            escaped, quote = ch == "\\", "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def _balanced(text: str) -> str:
    """``text`` up to where its first bracket group closes (ignoring brackets inside strings)."""
    end = group_end(text)
    return text[:end] if end > 0 else text


def value_closed(text: str) -> bool:
    """True once the JSON object or array that ``text`` starts with has closed."""
    depth, in_string, escaped = 0, False, False
    for ch in text.lstrip():
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth <= 0:
                return True
    return False


def _folded(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())


def resolve_names(parsed: ParsedCalls, names: frozenset[str]) -> ParsedCalls:
    """Calls whose name differs from one tool's only in case or punctuation take that name.

    Small models write ``Get_Weather`` or ``get.weather`` for ``get_weather``; a name that
    matches no tool, or several, is left as written.
    """
    folded: dict[str, list[str]] = {}
    for name in names:
        folded.setdefault(_folded(name), []).append(name)
    for call in parsed.tool_calls:
        matches = folded.get(_folded(call["name"]), [])
        if call["name"] not in names and len(matches) == 1:
            call["name"] = matches[0]
    return parsed


def drop_repeats(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``calls`` with each call that repeats an earlier one word for word left out.

    A small model in a loop writes the same call again and again; in one turn a second
    identical call can only run the same tool on the same input twice.
    """
    seen: set[str] = set()
    kept = []
    for call in calls:
        key = json.dumps([call["name"], call.get("args")], sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            kept.append(call)
    return kept

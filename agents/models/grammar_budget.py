"""Token budgets for constrained calls: fair string bounds up front, a forced close at the end.

A grammar keeps every token valid but does not make a JSON string end: a verbose model fills it
until ``max_tokens`` and the call is cut (``finish_reason: "length"``), as grammar-constrained
servers (llama.cpp, vLLM) return it. Here a call always ends inside its budget:

1. ``bounded`` gives each free string a fair share of the budget as ``maxLength`` (a first field
   cannot eat the others' share) and makes required strings non-empty (``minLength: 1``).
2. ``Closer`` watches the tokens left; once they fall to what the longest minimal completion
   costs, it allows only tokens that finish the JSON: the forced text, a closing quote, ``}`` or
   ``]``, a comma (ends a number), in that order, so the call closes within the budget.
3. A call that loops is closed at once. A small greedy model that has written a call often
   writes it again and again, or one value or word part again and again, until the budget runs
   out; the last copy is then cut short (``"years": 5`` for 50). A list of calls ends as soon as
   a call repeats an earlier one, and anything else ends once its newest tokens loop
   (``local_stopping.loops``). When a list of calls is closed halfway through a call, that cut
   call is left out of the reply (``Closer.whole_calls``): its values are not the ones the model
   was writing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autan.agents.models.call_text import CallText
from autan.agents.models.local_stopping import LOOP_PERIOD, LOOP_SPAN, loops

CHARS_PER_TOKEN = 3
MIN_CHARS = 8
_FIXED = ("enum", "const", "pattern", "format")


def _free_string(schema: Any) -> bool:
    return (
        isinstance(schema, dict)
        and schema.get("type") == "string"
        and not any(k in schema for k in _FIXED)
    )


def free_strings(schema: Any) -> int:
    """How many free-text strings (no enum, const, pattern or format) ``schema`` holds."""
    if isinstance(schema, list):
        return sum(free_strings(s) for s in schema)
    if not isinstance(schema, dict):
        return 0
    own = int(_free_string(schema))
    return own + sum(free_strings(v) for k, v in schema.items() if k not in _FIXED)


def bounded(schema: Any, max_chars: int | None) -> Any:
    """``schema`` with free strings capped at ``max_chars`` and required ones non-empty.

    A required string the model leaves empty (``calculator(expression="")``) is never what the
    caller meant; the result still validates against the original schema.
    """
    if isinstance(schema, list):
        return [bounded(s, max_chars) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: v if k in _FIXED else bounded(v, max_chars) for k, v in schema.items()}
    if _free_string(out) and max_chars is not None:
        cap = min(out.get("maxLength", max_chars), max_chars)
        out["maxLength"] = max(cap, out.get("minLength", 0))
    props = out.get("properties")
    if isinstance(props, dict):
        for name in out.get("required", ()):
            prop = props.get(name)
            if isinstance(prop, dict) and _free_string(prop) and prop.get("maxLength") != 0:
                prop.setdefault("minLength", 1)
    return out


def skeleton(schema: Any) -> Any:
    """The shortest value of ``schema`` with every property present: a closing cost bound."""
    if not isinstance(schema, dict):
        return {}
    if "const" in schema:
        return schema["const"]
    options = schema.get("enum") or [
        skeleton(s) for s in schema.get("anyOf", []) + schema.get("oneOf", [])
    ]
    kinds = schema.get("type")
    if isinstance(kinds, list):
        options = options + [skeleton({**schema, "type": k}) for k in kinds]
    if options:
        return max(options, key=lambda v: len(json.dumps(v)))
    if "properties" in schema or kinds == "object":
        return {k: skeleton(v) for k, v in (schema.get("properties") or {}).items()}
    if kinds == "array":
        return [skeleton(schema.get("items") or {})] * max(int(schema.get("minItems", 0)), 1)
    if kinds == "string":
        return "x" * max(int(schema.get("minLength", 0)), 1)
    if kinds in ("integer", "number"):
        return schema.get("minimum", 0)
    return {"boolean": False, "null": None}.get(str(kinds), {})


def closers(value: Any) -> int:
    """Strings, objects and arrays in ``value``: each may cost one token of its own to close."""
    if isinstance(value, dict):
        return 1 + sum(1 + closers(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(closers(v) for v in value)
    return int(isinstance(value, str))


def call_skeleton(tool: dict[str, Any]) -> str:
    """The JSON text of the shortest complete call to ``tool``, in the grammar's spacing."""
    fn = tool["function"]
    call = {"name": fn["name"], "arguments": skeleton(fn.get("parameters") or {})}
    return json.dumps(call, separators=(", ", ": "))


@dataclass
class Tiers:
    """Vocabulary masks by first byte: the tokens that close a string, a container, a value."""

    quote: np.ndarray
    close: np.ndarray
    comma: np.ndarray
    key: np.ndarray
    token_bytes: Callable[[int], bytes]

    @classmethod
    def of(cls, vocab: Sequence[bytes]) -> Tiers:
        """Masks for a vocabulary given as each token's bytes (special tokens as ``b""``).

        A token closes only if nothing in it opens more: ``"}}`` ends a string and two objects,
        ``}},{"`` would start another call.
        """
        closing = {ord("}"), ord("]")}

        def only_closes(b: bytes) -> bool:
            return bool(b) and all(c in closing for c in b)

        quote = [b[:1] == b'"' and (len(b) == 1 or only_closes(b[1:])) for b in vocab]
        comma = [b[:1] == b"," and b"{" not in b and b"[" not in b for b in vocab]
        return cls(
            quote=np.array(quote, dtype=bool),
            close=np.array([only_closes(b) for b in vocab], dtype=bool),
            comma=np.array(comma, dtype=bool),
            key=np.array([b[:1] == b'"' for b in vocab], dtype=bool),
            token_bytes=lambda t: vocab[t] if 0 <= t < len(vocab) else b"",
        )


@dataclass
class JsonCursor:
    """Where a call's JSON text stands: begun yet, inside a string, how deep, which calls done.

    A prompted call is the whole reply, so its first non-blank byte decides; a native call begins
    after the call token. In a list of calls (``[{...}, {...}]``) each call's text is kept once it
    closes, so a call that repeats an earlier one is seen (``repeated``).
    """

    armed: bool
    started: bool = False
    in_list: bool = False
    calls: list[str] = field(default_factory=list)
    repeated: bool = False
    value: bytes | None = None  # the string or number being written (see ``copy_bias``)
    number: bool = False
    call: CallText = field(default_factory=CallText)  # its text and open containers so far
    _text: list[str] = field(default_factory=list)

    @property
    def in_string(self) -> bool:
        """Inside a JSON string."""
        return self.call.in_string

    @property
    def depth(self) -> int:
        """How many objects and arrays are open."""
        return len(self.call.stack)

    def feed(self, data: bytes) -> None:
        """Advance over one generated token's bytes."""
        for ch in data.decode("latin-1"):
            if not self.started:
                self._begin(ch)
                if self.started:
                    self.call.feed(ch)
                continue
            if self.in_list:  # only a list's calls are compared
                self._text.append(ch)
            was_string = self.in_string
            self.call.feed(ch)
            if not was_string and ch in "{[":
                self._open()
            elif not was_string and ch in "}]":
                self._close()
            self._track(ch, was_string)

    def _track(self, ch: str, was_string: bool) -> None:
        """The scalar being written: a string's bytes after its quote, or a number's so far."""
        if was_string and self.in_string:
            self.value = (self.value or b"") + ch.encode("latin-1")
        elif self.in_string:  # a string opens
            self.value, self.number = b"", False
        elif not was_string and (ch.isdigit() or ch == "-" or (self.number and ch in ".eE+")):
            self.value = (self.value if self.number and self.value else b"") + ch.encode("latin-1")
            self.number = True
        else:
            self.value, self.number = None, False

    def _begin(self, ch: str) -> None:
        if self.armed and ch not in " \t\n":
            self.started = ch in "{["
            self.armed = self.started
            self.in_list = ch == "["

    def _open(self) -> None:
        if self.depth == 2 and self.in_list:
            self._text = self._text[-1:]

    def _close(self) -> None:
        if self.depth == 1 and self.in_list:
            call = "".join(self._text)
            self.repeated = self.repeated or call in self.calls
            self.calls.append(call)


@dataclass
class Closer:
    """Narrows the grammar's mask to closing tokens once the tokens left reach ``reserve``.

    A call is also closed once it loops: a call in a list repeats an earlier one, or the newest
    tokens repeat a short run.
    """

    tiers: Tiers
    budget: int
    reserve: int
    call_token: int | None
    cursor: JsonCursor = field(init=False)
    generated: int = 0
    whole_calls: int | None = None  # calls to keep when the list was closed mid-call
    looped: bool = False
    _tail: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cursor = JsonCursor(armed=self.call_token is None)

    def feed(self, tokens: Sequence[int]) -> None:
        """Account for newly generated tokens."""
        for t in tokens:
            self.generated += 1
            if t == self.call_token:
                self.cursor.armed = True
            else:
                self.cursor.feed(self.tiers.token_bytes(t))
        self._tail = (self._tail + list(tokens))[-(LOOP_SPAN + LOOP_PERIOD) :]
        self.looped = self.looped or loops(self._tail)
        cursor = self.cursor
        if self.whole_calls is None and self.closing and cursor.in_list and cursor.depth > 1:
            self.whole_calls = len(cursor.calls) or None

    @property
    def _short(self) -> bool:
        return self.budget - self.generated <= self.reserve

    @property
    def closing(self) -> bool:
        """True when the call has begun and loops, or only its shortest completion still fits."""
        return self.cursor.started and (self._short or self.cursor.repeated or self.looped)

    def narrow(self, allowed: np.ndarray, forced: Callable[[], list[int]]) -> np.ndarray:
        """``allowed`` cut to the first non-empty tier of closing tokens."""
        n = allowed.shape[0]
        if self.cursor.in_string:
            order = [self.tiers.quote[:n]]
        else:
            ff = forced()
            if ff and 0 <= ff[0] < n and allowed[ff[0]]:
                only = np.zeros(n, dtype=bool)
                only[ff[0]] = True
                return only
            order = [self.tiers.close[:n], self.tiers.comma[:n], self.tiers.key[:n]]
        for tier in order:
            picked: np.ndarray = allowed & tier
            if picked.any():
                return picked
        return allowed


def whole_calls(processors: Sequence[Any]) -> int | None:
    """How many leading calls of a reply to keep: all (None) unless its closer cut one short."""
    for proc in processors:
        closer = getattr(proc, "closer", None)
        if isinstance(closer, Closer):
            return closer.whole_calls
    return None


def reserve_tokens(tools: Sequence[dict[str, Any]], count: Callable[[str], int]) -> int:
    """Tokens the longest shortest call among ``tools`` can take to finish, from any point."""
    worst = 0
    for tool in tools:
        text = call_skeleton(tool)
        worst = max(worst, count(text) + closers(json.loads(text)))
    return worst + 2  # the closing "]" of a call list and end-of-sequence


def string_share(tool: dict[str, Any], budget: int, reserve: int) -> int | None:
    """Characters each free string of ``tool`` may hold so they share the budget fairly."""
    n = free_strings(tool["function"].get("parameters") or {})
    if not n:
        return None
    return max(MIN_CHARS, (budget - reserve) * CHARS_PER_TOKEN // n)

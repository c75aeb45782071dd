"""Where the text of a run came from, and where an argument value can be traced to.

A ``Provenance`` ledger keeps every text a turn (or an automation run) has seen, labelled with
its trust: the user's own words, trusted tool output, untrusted content. The capability policy
asks it where a tool argument's value appears. Matching is deliberately forgiving about form
(case, Unicode compatibility forms, whitespace, a URL's scheme and ``www.``, thousands
separators in numbers) so an attacker cannot slip a value past it by re-spelling, and a value
the user typed is always recognised as the user's.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from autan.tools.spec import ArgKind, Trust

_WS = re.compile(r"\s+")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,_']*(?:\.\d+)?(?![\w])")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'`)\]}]+|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/[^\s]*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SHORT = 4  # values shorter than this must match a whole word, not any substring
VOUCHING = (Trust.USER, Trust.TRUSTED)


def norm(text: str) -> str:
    """Compatibility-normalised, case-folded, whitespace collapsed."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def compact(text: str) -> str:
    """``norm`` without any whitespace (IBANs, card and phone numbers are written spaced)."""
    return _WS.sub("", norm(text))


def url_core(url: str) -> str:
    """A URL without scheme, ``www.``, trailing slash: the part a person would retype."""
    core = norm(url)
    core = re.sub(r"^[a-z][a-z0-9+.-]*://", "", core)
    core = core.removeprefix("www.")
    return core.rstrip("/")


def url_host(url: str) -> str:
    """The host of a URL (no user info, no port)."""
    host = url_core(url).split("/", 1)[0].split("?", 1)[0]
    return host.rsplit("@", 1)[-1].split(":", 1)[0]


def to_number(value: Any) -> float | None:
    """A number from an int, float or numeric string (``1,250.00``); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "").replace("'", "")
        text = re.sub(r"^[$€£]|[$€£]$", "", text).strip()
        try:
            return float(text)
        except ValueError:
            return None
    return None


def strings(value: Any) -> Iterator[str]:
    """Every string (and number, as text) inside a JSON-like value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        yield str(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(value, list | tuple | set):
        for v in value:
            yield from strings(v)
    else:
        yield str(value)


@dataclass
class Source:
    """One text the run has seen, normalised once."""

    trust: Trust
    origin: str
    text: str
    flat: str = ""
    numbers: frozenset[float] = frozenset()

    def __post_init__(self) -> None:
        self.text = norm(self.text)
        self.flat = _WS.sub("", self.text)
        found = (to_number(m.group()) for m in _NUMBER.finditer(self.text))
        self.numbers = frozenset(n for n in found if n is not None)

    def holds(self, needle: str) -> bool:
        """Whether the normalised ``needle`` appears here (short needles as whole words)."""
        if not needle:
            return False
        if len(needle) < _SHORT:
            return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", self.text) is not None
        return needle in self.text or _WS.sub("", needle) in self.flat


@dataclass
class Provenance:
    """The ledger of one turn or run: what was seen, from whom."""

    sources: list[Source] = field(default_factory=list)

    def add(self, trust: Trust | str, origin: str, value: Any) -> None:
        """Record ``value`` (any JSON-like value) as seen, with its trust and origin."""
        text = "\n".join(strings(value))
        if text.strip():
            self.sources.append(Source(Trust(trust), origin, text))

    def add_user(self, text: str) -> None:
        """Record the user's own words (a request, a variable they passed)."""
        self.add(Trust.USER, "user", text)

    @property
    def tainted(self) -> bool:
        """True once any untrusted content is in the run."""
        return any(s.trust == Trust.UNTRUSTED for s in self.sources)

    def where(self, needles: list[str], number: float | None = None) -> tuple[bool, list[str]]:
        """(vouched, untrusted origins): is any needle in the user's or trusted text; where not."""
        vouched = False
        tainted: list[str] = []
        for s in self.sources:
            hit = any(s.holds(n) for n in needles) or (number is not None and number in s.numbers)
            if not hit:
                continue
            if s.trust in VOUCHING:
                vouched = True
            elif s.origin not in tainted:
                tainted.append(s.origin)
        return vouched, tainted

    def trace(self, value: Any, kind: ArgKind | None) -> Trace:
        """Where an argument value of ``kind`` (None: undeclared) can be found."""
        parts = [trace_one(self, needles, number) for needles, number in _needles(value, kind)]
        return Trace(
            vouched=all(p.vouched for p in parts),
            untrusted=sorted({o for p in parts if not p.vouched for o in p.untrusted}),
        )


@dataclass(frozen=True)
class Trace:
    """The sources of one argument value: vouched by the user/trusted output, seen untrusted."""

    vouched: bool
    untrusted: list[str]


def trace_one(ledger: Provenance, needles: list[str], number: float | None) -> Trace:
    """Trace one candidate value."""
    vouched, untrusted = ledger.where(needles, number)
    return Trace(vouched, untrusted)


def _needles(value: Any, kind: ArgKind | None) -> list[tuple[list[str], float | None]]:
    """The candidate spellings of each atomic piece of ``value`` worth tracing."""
    out: list[tuple[list[str], float | None]] = []
    if isinstance(value, dict):
        for v in value.values():
            out += _needles(v, kind)
        return out
    if isinstance(value, list | tuple | set):
        for v in value:
            out += _needles(v, kind)
        return out
    number = to_number(value)
    if kind == ArgKind.AMOUNT or (number is not None and not isinstance(value, str)):
        return [([norm(str(value))], number)] if value is not None else []
    if not isinstance(value, str) or not value.strip():
        return []
    if kind == ArgKind.URL:
        return [([url_core(value), url_host(value)], None)]
    if kind == ArgKind.PATH:
        path = norm(value).replace("\\", "/").removeprefix("./").rstrip("/")
        return [([path, path.rsplit("/", 1)[-1]], None)]
    if kind in (ArgKind.RECIPIENT, ArgKind.TEXT):
        return [([norm(value)], number)]
    return _embedded(value, number)


def _embedded(value: str, number: float | None) -> list[tuple[list[str], float | None]]:
    """Code, a command or an undeclared argument: the whole value, and each URL or address in it.

    The whole value stands for itself only if it is short enough to be one value; a URL or an
    e-mail address inside it is traced on its own, so a command built around an attacker's
    address is caught even when the rest of the command is the model's own.
    """
    pieces: list[tuple[list[str], float | None]] = []
    text = norm(value)
    if len(text) <= 200:
        pieces.append(([text], number))
    for m in _URL.finditer(text):
        pieces.append(([url_core(m.group()), url_host(m.group())], None))
    for m in _EMAIL.finditer(text):
        pieces.append(([m.group()], None))
    return pieces


def ledger_text(value: Any) -> str:
    """A tool result as the text the ledger keeps (JSON, so keys and values are both seen)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)

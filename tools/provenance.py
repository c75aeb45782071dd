"""Where the text of a run came from, and where an argument value can be traced to.

A ``Provenance`` ledger keeps every text a turn (or an automation run) has seen, labelled with
its trust: the user's own words, trusted tool output, untrusted content. The capability policy
asks it where a tool argument's value appears. Untrusted content can be *endorsed*: the result
of a call whose every designating argument (the file, URL, address, channel or search the call
reads) the user's own words or trusted output vouch for is content the user pointed the agent
at, so its values vouch like the user's own (see ``designated`` and docs/security.md).
Matching is deliberately forgiving about form (case, Unicode compatibility forms, whitespace,
a URL's scheme and ``www.``, thousands separators in numbers) so an attacker cannot slip a
value past it by re-spelling, and a value the user typed is always recognised as the user's.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from autan.tools.spec import ArgKind, Trust

_WS = re.compile(r"\s+")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,_']*(?:\.\d+)?(?![\w])")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'`)\]}]+|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/[^\s]*")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")
_LETTERS = re.compile(r"[^\W\d_]{3}")
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
    core = SCHEME.sub("", core)
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
    """One text the run has seen, normalised once.

    A *structural* source holds the structure values of one record of an untrusted result
    (tools/fields.py: one mail, one file, one channel). A whole value there vouches for
    an argument equal to it, unless free text also holds it or the user named the record
    (``Provenance.named``); a value found only *inside* a longer one (an address in a channel
    name) is tainted like free text.
    """

    trust: Trust
    origin: str
    text: str
    endorsed: bool = False  # untrusted content the user designated (see ``designated``)
    # Delegated by the user's own words (tools/delegation.py): links here may be followed by a
    # public read; the one e-mail address here vouches for the person the user named.
    links: bool = False
    addressed: bool = False
    structural: bool = False
    flat: str = ""
    numbers: frozenset[float] = frozenset()
    atoms: frozenset[str] = frozenset()  # a structural source's whole values, in every spelling
    atom_numbers: frozenset[float] = frozenset()
    values: tuple[str, ...] = ()  # a structural source's values, normalised, in order
    raw: str = ""  # the text as written (verbatim comparisons: tools/delegation.py)

    def __post_init__(self) -> None:
        self.raw = self.text
        if self.structural:
            values = [v for v in self.text.split("\n") if v.strip()]
            self.values = tuple(norm(v) for v in values)
            self.atoms = frozenset(a for v in values for a in (norm(v), compact(v), url_core(v)))
            self.atom_numbers = frozenset(n for v in values if (n := to_number(v)) is not None)
        self.text = norm(self.text)
        self.flat = _WS.sub("", self.text)
        found = (to_number(m.group()) for m in _NUMBER.finditer(self.text))
        self.numbers = frozenset(n for n in found if n is not None)

    @property
    def vouches(self) -> bool:
        """Whether a value found here counts as the user's choice."""
        return self.trust in VOUCHING or self.endorsed

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

    def add(
        self,
        trust: Trust | str,
        origin: str,
        value: Any,
        endorsed: bool = False,
        links: bool = False,
        addressed: bool = False,
    ) -> None:
        """Record ``value`` (any JSON-like value) as seen, with its trust and origin.

        ``links``, ``addressed``: what the user's words delegated to it (``Source``).
        """
        text = "\n".join(strings(value))
        if text.strip():
            source = Source(Trust(trust), origin, text, endorsed, links=links, addressed=addressed)
            self.sources.append(source)

    def add_structure(self, origin: str, values: Sequence[str]) -> None:
        """Record the values of one record's structure fields (set by the platform, fields.py).

        They vouch for an argument value only where no untrusted free text also holds it (an
        injection that names an id, an address or a channel the structure lists still taints
        it), or where the user's words name the record (``named``).
        """
        text = "\n".join(v.replace("\n", " ") for v in values)
        if text.strip():
            source = Source(Trust.UNTRUSTED, f"{origin} (structure)", text, structural=True)
            self.sources.append(source)

    def restore(self, entry: Mapping[str, Any]) -> None:
        """Record a ledger entry as kept in state (``entry`` below)."""
        origin = str(entry["origin"])
        links, addressed = bool(entry.get("links")), bool(entry.get("addressed"))
        self.add(
            entry["trust"], origin, entry["text"], bool(entry.get("endorsed")), links, addressed
        )
        kept = entry.get("structure") or []
        if kept and all(isinstance(v, str) for v in kept):  # one flat list: a single record
            kept = [kept]
        for values in kept:
            self.add_structure(origin, values)

    def add_user(self, text: str) -> None:
        """Record the user's own words (a request, a variable they passed)."""
        self.add(Trust.USER, "user", text)

    @property
    def tainted(self) -> bool:
        """True once any untrusted content is in the run (structure fields are not)."""
        return any(s.trust == Trust.UNTRUSTED for s in self.sources)

    def where(self, piece: Piece) -> Trace:
        """Does the user or trusted output vouch for ``piece``; which untrusted origins hold it.

        A whole value of a structure field vouches only if no free text holds it too, or if the
        user named its record (``named``); where no structure field equals it, one that merely
        contains it taints it (short values excepted: an id ``7`` inside a date ``2022-03-07``
        is not a choice anyone made).
        """
        vouched = False
        tainted: list[str] = []
        inside: list[str] = []
        wholes: list[Source] = []
        for s in self.sources:
            if s.structural:
                if piece.whole(s):
                    wholes.append(s)
                elif piece.long and piece.found(s, piece.taint):
                    inside.append(s.origin)
            elif s.vouches:
                vouched = vouched or piece.found(s, piece.vouch)
            elif s.origin not in tainted and piece.found(s, piece.taint):
                tainted.append(s.origin)
        if not wholes:
            tainted += [o for o in dict.fromkeys(inside) if o not in tainted]
        # whether the user named a record is asked only when nothing else settles it
        settled = vouched or (bool(wholes) and not tainted)
        return Trace(settled or any(self.named(s) for s in wholes), tainted)

    def named(self, record: Source) -> bool:
        """Whether the user's own words single out this ``record`` of structure values.

        One of its values that can name a thing (a file or channel name: a word of three letters
        or more, not an address, a URL or a number), whole or as a run of two or more of its
        words ("the grocery list" for ``grocery-list-today.docx``), is in the user's words, and
        no other record seen carries that value or run. Addresses are left out: a person owns
        and sends many records, so naming them singles out none. The user chose
        that record, so its id is the user's choice whatever free text also names it
        ("Activity 3" in the file the user named is not a choice a third party made).
        """
        said = " ".join(_words(s.text) for s in self.sources if s.trust == Trust.USER)
        others = [
            _words(v)
            for s in self.sources
            if s.structural and s is not record and s.values != record.values
            for v in s.values
        ]
        return any(
            f" {run} " in f" {said} " and not any(_carries(o, run, whole) for o in others)
            for v in record.values
            if _names(v)
            for run, whole in _runs(v)
        )

    def trace(self, value: Any, kind: ArgKind | None, only_links: bool = False) -> Trace:
        """Where an argument value of ``kind`` (None: undeclared) can be found.

        ``only_links``: trace just the URLs and e-mail addresses inside the value (free text).
        """
        found = links(value) if only_links else pieces(value, kind)
        parts = [self.where(piece) for piece in found]
        return Trace(
            vouched=all(p.vouched for p in parts),
            untrusted=sorted({o for p in parts if not p.vouched for o in p.untrusted}),
        )

    def designated(self, args: Mapping[str, Any], kinds: Mapping[str, ArgKind]) -> bool:
        """Whether a call with ``args`` reads an object the user designated.

        ``kinds`` are the call's designating arguments (what it reads: a file name, a URL, a
        sender, a channel, a search query). The call is designated when at least one of them is
        given and every one given is vouched: in the user's words, in trusted output, or in
        content itself endorsed (a page the user named that names a file). A call with no
        designating argument (list everything, read the inbox) designates nothing.
        """
        given = [(a, k) for a, k in kinds.items() if a in args and pieces(args[a], k)]
        return bool(given) and all(self.trace(args[a], k).vouched for a, k in given)


def _words(text: str) -> str:
    """``text`` as its words (letters and digits) joined by single spaces."""
    return " ".join(_WORD.findall(norm(text)))


def _runs(value: str) -> list[tuple[str, bool]]:
    """A structure value's words whole (four characters or more), and each run of two or more.

    Each comes with whether it is the whole value.
    """
    words = _WORD.findall(norm(value))
    runs = [(" ".join(words), True)] if len(value) >= _SHORT and words else []
    n = len(words)
    return runs + [(" ".join(words[i:j]), False) for i in range(n) for j in range(i + 2, n + 1)]


def _names(value: str) -> bool:
    """Whether a structure value can name a record: a word, not an address, URL or number."""
    if to_number(value) is not None or EMAIL.search(value) or _URL.search(norm(value)):
        return False
    return _LETTERS.search(value) is not None


def _carries(other: str, run: str, whole: bool) -> bool:
    """Whether another record's value (as words) is the whole ``run`` or holds it."""
    return other == run if whole else f" {run} " in f" {other} "


@dataclass(frozen=True)
class Piece:
    """One atomic value to trace: spellings that vouch for it, spellings that taint it."""

    vouch: list[str]
    taint: list[str]
    number: float | None = None

    def found(self, source: Source, needles: list[str]) -> bool:
        """Whether ``source`` holds one of ``needles`` (or this piece's number)."""
        if self.number is not None and self.number in source.numbers:
            return True
        return any(source.holds(n) for n in needles)

    @property
    def long(self) -> bool:
        """Whether this piece is long enough to be found inside another value by choice."""
        return any(len(n) >= _SHORT for n in self.vouch)

    def whole(self, source: Source) -> bool:
        """Whether a structural ``source`` has a value equal to this piece."""
        if self.number is not None and self.number in source.atom_numbers:
            return True
        return any(n in source.atoms or _WS.sub("", n) in source.atoms for n in self.vouch)


@dataclass(frozen=True)
class Trace:
    """The sources of one argument value: vouched by the user/trusted output, seen untrusted."""

    vouched: bool
    untrusted: list[str]


def pieces(value: Any, kind: ArgKind | None) -> list[Piece]:
    """The atomic pieces of ``value`` worth tracing, with their spellings."""
    if isinstance(value, dict):
        return [p for v in value.values() for p in pieces(v, kind)]
    if isinstance(value, list | tuple | set):
        return [p for v in value for p in pieces(v, kind)]
    number = to_number(value)
    if kind == ArgKind.AMOUNT or (number is not None and not isinstance(value, str)):
        return [Piece([norm(str(value))], [norm(str(value))], number)] if value is not None else []
    if not isinstance(value, str) or not value.strip():
        return []
    if kind == ArgKind.URL:
        spellings = [url_core(value), url_host(value)]  # a host the user named vouches for it
        return [Piece(spellings, spellings)]
    if kind == ArgKind.PATH:
        path = norm(value).replace("\\", "/").removeprefix("./").rstrip("/")
        return [Piece([path], [path, path.rsplit("/", 1)[-1]])]
    if kind in (ArgKind.RECIPIENT, ArgKind.TEXT):
        return [Piece([norm(value)], [norm(value)], number)]
    return _embedded(value, number)


def links(value: Any) -> list[Piece]:
    """Each URL and e-mail address inside free text (a message body, a title), to trace alone."""
    found: list[Piece] = []
    for text in strings(value):
        text = norm(text)
        for m in _URL.finditer(text):
            spellings = [url_core(m.group()), url_host(m.group())]
            found.append(Piece(spellings, spellings))
        found += [Piece([m.group()], [m.group()]) for m in EMAIL.finditer(text)]
    return found


def _embedded(value: str, number: float | None) -> list[Piece]:
    """Code, a command or an undeclared argument: the whole value, and each URL or address in it.

    The whole value stands for itself only if it is short enough to be one value; a URL or an
    e-mail address inside it is traced on its own, so a command built around an attacker's
    address is caught even when the rest of the command is the model's own.
    """
    found: list[Piece] = []
    text = norm(value)
    if len(text) <= 200:
        found.append(Piece([text], [text], number))
    return found + links(text)


def ledger_text(value: Any) -> str:
    """A tool result as the text the ledger keeps (JSON, so keys and values are both seen)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)

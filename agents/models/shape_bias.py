"""A soft preference, in constrained calls, for the shape the conversation's words suggest.

``copy_bias`` settles what a value says; this settles how much a call holds. A small model
that has copied a list often runs on past its end (``[85, 90, 88, 92, 86, 89, 91, 91, 92, ...]``),
leaves out an optional argument the user asked for ("assuming equal variance"), writes one the
user never named (``"format": "DNA123"``), or sets a flag the user asked for to ``false``
("with toll roads avoided"). At the points where the grammar allows both, ``ShapeBias`` adds the
same bonus as ``copy_bias`` to one side:

- **after a list item** copied from the text, another item when the text goes on with a list
  separator and a like item (``, 91``, ``and C``, ``'Income'`` after ``'Age',``), the close when
  the text's list ends there (``91 and set bin range``, ``C (Cytosine).``);
- **after an item of a list of choices** (items with an ``enum``), another item when the text
  names a choice not yet written, the close when it names none or every choice is written, with
  ``CHOICE_WEIGHT`` times the bonus: a small model lists every choice (``["Vegan",
  "Vegetarian", "Gluten-free", ...]`` for "vegan food"). Choices too short to be named ("G")
  leave it to the copied-item rule;
- **after an argument**, another one when an optional argument not yet written is named in the
  text (its name's words, by their first five letters: ``equal_variance`` by "equal variance";
  or one of its choices: ``size`` by "small"), the close when none is and every name and
  number of the text is written (else the model decides: "in California" may be a ``state``).
  A string or a list ends in one token with this step (``"}``, ``",``, ``]}``): among the
  tokens that could end it, the favoured side gets ``ENDING_WEIGHT`` times the bonus, and all
  shift so their best score stays, so whether the value ends is still the model's choice;
- **at a flag's value**, ``true`` when the text names the flag (``avoid_tolls`` by "toll roads
  avoided");
- **inside a place**, a comma after a whole copied word where the property's description asks
  for "city and state" (``Los Angeles`` goes on to ``Los Angeles, CA``).

The grammar's mask comes first, so only tokens it allows move, and the bonus settles near-ties
without overruling a clear preference (a list of choices excepted).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from autan.agents.models.call_schema import (
    choices,
    container_schema,
    enum,
    namings,
    parameters,
    properties,
    stems,
)
from autan.agents.models.call_text import CallText, Frame
from autan.agents.models.copy_bias import add_bonus, mask_ids

CHOICE_WEIGHT = 5.0  # in bonuses, where a list of choices goes on or ends: the model runs on
_SEPARATOR = re.compile(rb"\s*(?:,|;|\band\b|\bor\b)\s*(?:(?:and|or)\s+)?")
_ASIDE = re.compile(rb"\s*\([^()]{0,40}\)")
_NUMBER = re.compile(rb"[-+$]?\d")
_END = re.compile(rb"\s*(?:$|[.?!)\]:\n])")
_STATE = re.compile(r"(?i)city and state|city, state")
_QUOTES = b"'\"`"
_CLOSERS = (b'"', b"]", b'"]')
ENDING_WEIGHT = 2.0  # in bonuses, among the tokens that end a value: which way its object goes
_SALIENT = re.compile(rb"(?<![\w-])[A-Z][A-Za-z]+|\d[\d,.]*\d|\d")
_NEGATION = re.compile(rb"(?:\b(?:no|not|never|without|except|exclud\w*)|n't)\W+(?:\w+\W+){0,3}$")


def _masks(vocab: Sequence[bytes]) -> dict[str, np.ndarray]:
    """Tokens by their first non-blank byte: a comma, a closing bracket, the ``t`` of true."""
    firsts = [b.lstrip()[:1] for b in vocab]

    def mask(*bytes_: bytes) -> np.ndarray:
        return np.array([f in bytes_ for f in firsts], dtype=bool)

    def quoted(byte: bytes) -> np.ndarray:
        """A string's closing quote, then ``byte``."""
        return np.array([b[:1] == b'"' and b[1:].lstrip()[:1] == byte for b in vocab], dtype=bool)

    closing = {"close": mask(b"]", b"}"), '"close': quoted(b"]"), '"more': quoted(b",")}
    return {"more": mask(b","), "true": mask(b"t"), **closing, **_endings(vocab)}


def _endings(vocab: Sequence[bytes]) -> dict[str, np.ndarray]:
    """The tokens that end a value with ``closer`` (``"``, ``]``, ``"]``), by what follows.

    Keyed by the closer alone (every such token), and by the closer with ``,`` (the object goes
    on: ``",``) or ``}`` (it ends: ``"}``, ``]},``).
    """
    out = {}
    for closer in _CLOSERS:
        rests = [b.lstrip()[len(closer) :].lstrip() for b in vocab]
        ends = np.array([b.lstrip().startswith(closer) for b in vocab], dtype=bool)
        out[closer.decode()] = ends
        for after in (b",", b"}"):
            follows = np.array([r[:1] == after for r in rests], dtype=bool)
            out[(closer + after).decode()] = ends & follows
    return out


class ShapeBias:
    """Which side of a list's end, an object's end or a flag the conversation's text favours."""

    def __init__(
        self,
        source: bytes,
        tools: Sequence[Mapping[str, Any]],
        masks: Mapping[str, np.ndarray],
        bonus: float,
    ) -> None:
        self.source = source.lower()
        self._salient = salient(source)
        self._names: dict[str, bool | None] = {}
        self.params = parameters(tools)
        self.masks = masks
        self.bonus = bonus

    @staticmethod
    def masks_of(vocab: Sequence[bytes]) -> dict[str, np.ndarray]:
        """The token masks a vocabulary needs (given as each token's bytes), computed once."""
        return _masks(vocab)

    def apply(self, scores: Any, call: CallText, value: bytes | None, number: bool) -> None:
        """Add the bonus to the favoured side's tokens, in place; ``call`` is the call so far.

        ``value`` is the string (``number`` False) or number being written, or None.
        """
        if not self.bonus:
            return
        ending = self._ending(call, value, number)
        if ending is not None:
            _settle(
                scores, self.masks[ending[0]], self.masks[ending[1]], self.bonus * ENDING_WEIGHT
            )
        favoured = self._favoured(call, value, number)
        if favoured is None:
            return
        add_bonus(scores, mask_ids(self.masks[favoured[0]], scores), self.bonus * favoured[1])

    def ending(self, call: CallText, value: bytes | None, number: bool) -> str | None:
        """The ending tokens to favour among those that could end this value, or None."""
        ending = self._ending(call, value, number)
        return ending[1] if ending else None

    def _ending(self, call: CallText, value: bytes | None, number: bool) -> tuple[str, str] | None:
        """The closer that ends the value being written, and its variant the object favours.

        A string argument or a list ends in one token with its object's next step: ``"}``,
        ``",``, ``]}``, so the verdict taken after a number (``_object_goes_on``) is taken here
        among those tokens.
        """
        stack = call.stack
        top = stack[-1] if stack else None
        if top is None:
            return None
        text = value is not None and not number
        if top.kind == "{" and text and top.key is not None:
            closer, obj = '"', stack
        elif top.kind == "[" and len(stack) > 1 and stack[-2].kind == "{":
            closer, obj = ('"]' if text else "]"), stack[:-1]
        else:
            return None
        schema = container_schema(self.params, obj)
        if schema is None or obj[-1].key is None:
            return None
        more = self._object_goes_on(schema, obj[-1].keys, call)
        return None if more is None else (closer, closer + ("," if more else "}"))

    def side(self, call: CallText, value: bytes | None, number: bool) -> str | None:
        """The mask to favour at this point of the call, or None."""
        favoured = self._favoured(call, value, number)
        return favoured[0] if favoured else None

    def _favoured(
        self, call: CallText, value: bytes | None, number: bool
    ) -> tuple[str, float] | None:
        """The mask to favour and its weight, in bonuses."""
        stack = call.stack
        schema = container_schema(self.params, stack)
        if schema is None:
            return None
        top = stack[-1]
        if value is not None and not number:
            return self._string_ends(top, value, schema)
        if top.kind == "[":
            item = (value, True) if value is not None else _item(call.since(top.start))
            choice = self._choice_goes_on(choices(schema), top.items) if item else None
            if choice is not None:
                return ("more" if choice else "close"), CHOICE_WEIGHT
            more = self._list_goes_on(*item) if item and item[0] else None
        elif top.key is None:
            return None
        elif value is None and top.expect_value:
            return _plain(self._flag(schema, top.key))
        elif number and not self._whole(value or b""):
            return None
        else:
            more = self._object_goes_on(schema, top.keys, call)
        return None if more is None else (("more" if more else "close"), 1.0)

    def _string_ends(
        self, top: Frame, value: bytes, schema: dict[str, Any]
    ) -> tuple[str, float] | None:
        """Inside a list's string item: its close with the list's, where the text's list ends.

        Nothing else is favoured inside a list's string: a copied phrase may go on past a comma
        ("Denver, Colorado"). A list of choices goes on or ends once a choice is whole. Inside
        an argument's string, a place goes on to its state where the property asks for one.
        """
        if top.kind == "{" and value and top.key is not None:
            return _plain(self._with_state(schema, top.key, value))
        if top.kind != "[" or not value:
            return None
        options = choices(schema)
        if options:
            text = value.decode("utf-8", "replace")
            if text not in options or any(c != text and c.startswith(text) for c in options):
                return None
            more = self._choice_goes_on(options, [*top.items, text])
            if more is not None:
                return ('"more' if more else '"close'), CHOICE_WEIGHT
        return ('"close', 1.0) if self._list_goes_on(value, False) is False else None

    def _with_state(self, schema: dict[str, Any], key: str, value: bytes) -> str | None:
        """A comma after a whole copied place, where the property asks for a city and state.

        "The city and state, e.g. Los Angeles, CA": a small model stops at "Los Angeles".
        """
        prop = properties(schema).get(key)
        described = str(prop.get("description", "")) if isinstance(prop, dict) else ""
        if not _STATE.search(described) or b"," in value:
            return None
        return "more" if self._copies(value, number=False) else None

    def _choice_goes_on(self, choices: list[str], written: list[str]) -> bool | None:
        """Whether the text names a choice of a list not yet written ("tolls" by "toll roads").

        None when a choice left is too short to be named by its first letters ("G"); False
        once every choice is written.
        """
        if not choices:
            return None
        left = [c for c in choices if c not in written]
        if any(self._named(c) is True for c in left):
            return True
        return False if all(stems(c) for c in left) else None

    def _flag(self, schema: dict[str, Any], key: str) -> str | None:
        """``true`` for a flag the text names; a negated naming may mean either."""
        flag = properties(schema).get(key)
        boolean = isinstance(flag, dict) and flag.get("type") == "boolean"
        return "true" if boolean and self._named(key) else None

    def _named(self, key: str) -> bool | None:
        """Whether the text names ``key`` by one of its words' first letters.

        True; False when every naming is negated ("don't return full text" for ``full_text``);
        None when none is.
        """
        if key not in self._names:
            found = namings(self.source, key)
            negated = [bool(_NEGATION.search(self.source, max(0, at - 40), at)) for at in found]
            self._names[key] = None if not found else not all(negated)
        return self._names[key]

    def _object_goes_on(
        self, schema: dict[str, Any], written: list[str], call: CallText
    ) -> bool | None:
        """Whether the object goes on to an argument not yet written.

        True when the text names one (by its words, or by a choice: ``size`` by "small");
        False when it names none and every name and number of the text is written; else None
        ("in California" may be a ``state`` left to write).
        """
        if not any(k not in written for k in properties(schema)):
            return None
        if self.named_left(schema, written):
            return True
        text = call.since(0).lower().replace(",", "")
        return None if any(s not in text for s in self._salient) else False

    def named_left(self, schema: dict[str, Any], written: list[str]) -> list[str]:
        """The keys not yet ``written`` that the text names, by their words or a choice."""
        props = properties(schema)
        return [
            k
            for k in props
            if k not in written
            and (self._named(k) is not None or any(self._named(c) for c in enum(props[k])))
        ]

    def _copies(self, item: bytes, number: bool) -> list[int]:
        """Where ``item`` stands whole in the text: as a word or a number, not part of one."""
        src, needle, start, found = self.source, item.lower(), 0, []
        while (at := src.find(needle, start)) >= 0:
            start = at + 1
            end = at + len(needle)
            after = src[end : end + 2]
            if at and src[at - 1 : at].isalnum():
                continue
            if number and (after[:1].isdigit() or (after[:1] == b"." and after[1:].isdigit())):
                continue  # digits go on: 5 of "50", 12 of "12.4"; a unit may follow ("5J/K")
            if not number and after[:1].isalnum():
                continue
            found.append(at)
        return found

    def _whole(self, digits: bytes) -> bool:
        return bool(digits) and bool(self._copies(digits, number=True))

    def _list_goes_on(self, item: bytes, number: bool) -> bool | None:
        """True when the text's list goes on after ``item``, False when it ends, else None."""
        src, verdict = self.source, None
        for at in self._copies(item, number):
            end = at + len(item)
            quote = src[at - 1 : at] if at and src[at - 1] in _QUOTES else b""
            if quote and src[end : end + 1] == quote:
                end += 1
            while aside := _ASIDE.match(src, end):
                end = aside.end()
            goes = _goes_on(src, end, quote, number)
            if goes:
                return True
            verdict = False if goes is False else verdict
        return verdict


def salient(source: bytes) -> list[str]:
    """The names and numbers of ``source``, lower-cased and without thousands' commas.

    Names are capitalised words that do not open a sentence ("Find ... in California").
    """
    found = []
    for m in _SALIENT.finditer(source):
        at = m.start()
        while at and source[at - 1 : at].isspace():
            at -= 1
        if m.group()[:1].isalpha() and source[at - 1 : at] in (b"", b".", b"?", b"!"):
            continue
        found.append(m.group().decode("utf-8", "replace").lower().replace(",", "").rstrip("."))
    return list(dict.fromkeys(found))


def _settle(scores: Any, ends: np.ndarray, favoured: np.ndarray, bonus: float) -> None:
    """Add ``bonus`` to the ``favoured`` ones of the ``ends`` tokens, in place.

    All ``ends`` then shift so that their best score stays as it was: whether the value ends
    is still the model's choice, only how it ends moves.
    """
    ids = mask_ids(ends, scores)
    if not ids:
        return
    sub = scores[..., ids]
    best = sub.max(dim=-1, keepdim=True).values
    weights = torch.from_numpy(favoured[ids].astype(np.float32)).to(sub.device, sub.dtype)
    moved = sub + weights * bonus
    shift = best - moved.max(dim=-1, keepdim=True).values
    scores[..., ids] = moved + torch.where(torch.isfinite(shift), shift, 0.0)


def _plain(side: str | None) -> tuple[str, float] | None:
    """A side favoured with the plain bonus."""
    return None if side is None else (side, 1.0)


def _goes_on(src: bytes, end: int, quote: bytes, number: bool) -> bool | None:
    sep = _SEPARATOR.match(src, end)
    if sep and sep.end() > end:
        rest = src[sep.end() :]
        if number:
            return bool(_NUMBER.match(rest))
        if quote:
            return rest[:1] == quote
        return True
    if number or quote or _END.match(src, end):
        return False
    return None


def _item(raw: str) -> tuple[bytes, bool] | None:
    """The scalar an array's newest item holds: a string's text, or a number's digits (True)."""
    raw = raw.strip()
    if not raw or raw[0] in "{[":
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if isinstance(value, bool) or value is None:
        return None
    try:
        return (value.encode("latin-1"), False) if isinstance(value, str) else (raw.encode(), True)
    except UnicodeEncodeError:
        return None

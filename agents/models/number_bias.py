"""A preference, in constrained calls, for numbers the text writes in a form JSON does not.

A user writes "an annual interest rate of 5%", "$2,000,000" or "213 million"; a tool's
argument wants ``0.05``, ``2000000`` or ``213000000``. A small model copies the ``5`` (the copy
bias even favours it), stops at the ``2`` of "2,000,000", or miscounts the zeros. While a
constrained call writes a number, ``NumberBias`` favours the tokens that write on towards the
JSON form, and once it is whole, the tokens that end the number:

- **a percentage given for a rate**, as its fraction, with twice the copy bias's bonus
  (``FRACTION_WEIGHT``); the copy bias stays off that number. Only when the property's type is
  ``number`` (an ``integer`` such as a lightness in percent keeps it), its description does not
  say "percent" ("the interest rate as a percentage" keeps ``5.0``), and the percentage ("5%",
  "5 percent") stands within ``NEAR`` bytes of a word of the property's name, by its first
  letters as for the shape bias ("rate of return of 8%" for ``rate_of_return``), with no other
  property of the object named by more of its words or nearer ("trait A contributing 40%" is
  ``trait_contributions``'s, not ``trait_values'``);
- **a number with thousands separators or a scale word** ("$10,000", "8.5 million"), once the
  digits written start it and are no whole number of the text themselves (the ``10`` of "for
  10 years" may end there), with five times the copy bias's bonus (``SPELLED_WEIGHT``): the
  model knows it is copying and only miscounts the zeros. The copy bias stays on. A bracketed
  list ("[200,300,400]") is no grouped number.

The grammar's mask comes first, so only tokens it allows move.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from autan.agents.models.call_schema import container_schema, naming, parameters, properties, stems
from autan.agents.models.call_text import CallText
from autan.agents.models.copy_bias import add_bonus, mask_ids, prefix_ids

FRACTION_WEIGHT = 2.0  # in copy biases: the model's pull to copy the "5" is strong
SPELLED_WEIGHT = 5.0  # in copy biases: zeros are counted for the model
NEAR = 40  # bytes between a percentage and a word of the property's name
_GROUPED = re.compile(rb"(?<![\d.,\[])\d{1,3}(?:,\d{3})+(?!\d|,\d)")
_SCALE = {b"thousand": 3, b"million": 6, b"billion": 9, b"trillion": 12}
_WORDS = b"|".join(_SCALE)
_SCALED = re.compile(rb"(?<![\d.])(\d+(?:\.\d+)?)\s*(" + _WORDS + rb")\b")
_WHOLE = rb"(?![\d]|[.,]\d|\s*(?:" + _WORDS + rb")\b)"
_WORD = re.compile(rb"[a-z0-9]+")
_PERCENT = re.compile(rb"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:%|per\s?cent\b)")


class NumberBias:
    """The tokens that write a number in its JSON form, and the bonus they get."""

    def __init__(
        self,
        source: bytes,
        tools: Sequence[Mapping[str, Any]],
        table: Mapping[bytes, list[int]],
        ends: np.ndarray,
        bonus: float,
    ) -> None:
        """``bonus`` is the copy bias's; ``ends`` the tokens that end a number (comma, bracket)."""
        self.source = source.lower()
        self.params = parameters(tools)
        self.table = table
        self.ends = ends
        self.bonus = bonus
        self.percents = [
            (m.start(), m.end(), fraction(m.group(1))) for m in _PERCENT.finditer(self.source)
        ]
        self._near: dict[tuple[tuple[str, ...], str], list[bytes]] = {}
        self.spelled = sorted(
            {m.group().replace(b",", b"") for m in _GROUPED.finditer(self.source)}
            | {scaled(m.group(1), m.group(2)) for m in _SCALED.finditer(self.source)}
        )

    def apply(self, scores: Any, call: CallText, value: bytes | None, number: bool) -> bool:
        """Favour the JSON form's tokens, in place; True for a rate's fraction (no copy bias).

        ``value`` is the number being written (``number`` True), or None between values.
        """
        if not self.bonus or (value is not None and not number):
            return False
        fractions = self.targets(call) if self.percents else []
        if fractions:
            self._favour(scores, value, fractions, self.bonus * FRACTION_WEIGHT)
            return True
        spelled = self.spelled_targets(value) if value else []
        if spelled:
            self._favour(scores, value, spelled, self.bonus * SPELLED_WEIGHT)
        return False

    def spelled_targets(self, value: bytes) -> list[bytes]:
        """The spelled numbers that ``value`` starts, unless it is a whole number of the text."""
        targets = [t for t in self.spelled if t.startswith(value)]
        if targets and re.search(rb"(?<![\w.,])" + re.escape(value) + _WHOLE, self.source):
            return []
        return targets

    def _favour(self, scores: Any, value: bytes | None, targets: list[bytes], bonus: float) -> None:
        ids = self.tokens(value or b"", targets)
        if value in targets:
            ids += mask_ids(self.ends, scores)
        add_bonus(scores, ids, bonus)

    def targets(self, call: CallText) -> list[bytes]:
        """The fractions the value being written may take, or none when it is no rate."""
        stack = call.stack
        if not stack:
            return []
        key, owner, prop = stack[-1].key, container_schema(self.params, stack), None
        if stack[-1].kind == "[":  # an array's items are the property's
            prop = owner.get("items") if owner else None
            key = stack[-2].key if len(stack) > 1 else None
            owner = container_schema(self.params, stack[:-1])
        props = properties(owner) if owner else {}
        if not props or key is None:
            return []
        prop = props.get(key) if stack[-1].kind == "{" else prop
        if not isinstance(prop, dict) or prop.get("type") != "number":
            return []
        if "percent" in str(prop.get("description", "")).lower():
            return []
        return self._owned(list(props), key)

    def _owned(self, names: list[str], key: str) -> list[bytes]:
        """The fractions of the percentages whose property is ``key``.

        A percentage is the property's that has the most of its words named within ``NEAR``
        bytes of it, the nearest of those on a tie.
        """
        cached = (tuple(names), key)
        if cached not in self._near:
            owned = []
            for start, end, text in self.percents:
                score = {name: self._score(name, start, end) for name in names}
                if score.get(key, (0, 0))[0] and score[key] == max(score.values()):
                    owned.append(text)
            self._near[cached] = owned
        return self._near[cached]

    def _score(self, name: str, start: int, end: int) -> tuple[int, int]:
        """How many of ``name``'s words are named near ``start:end``, and minus the nearest gap."""
        gaps = [
            min((self._gap(at, start, end) for at in naming(self.source, stem)), default=NEAR + 1)
            for stem in stems(name)
        ]
        near = [gap for gap in gaps if gap <= NEAR]
        return len(near), -min(near, default=0)

    def _gap(self, at: int, start: int, end: int) -> int:
        """Bytes between the word that starts at ``at`` and the percentage at ``start:end``."""
        if at >= end:
            return at - end
        word = _WORD.match(self.source, at)
        return max(0, start - (word.end() if word else at))

    def tokens(self, value: bytes, targets: Sequence[bytes]) -> list[int]:
        """Token ids that write on from ``value`` towards one of ``targets``."""
        rests = [t[len(value) :] for t in targets if t.startswith(value)]
        return prefix_ids(self.table, rests, (b"", b" ") if not value else (b"",))


def fraction(digits: bytes) -> bytes:
    """A percentage's digits as the fraction JSON writes: ``5`` as ``0.05``, ``40`` as ``0.4``."""
    return repr(float(Decimal(digits.decode()) / 100)).encode()


def scaled(digits: bytes, word: bytes) -> bytes:
    """A number with a scale word as JSON writes it: ``8.5`` million as ``8500000``."""
    value = Decimal(digits.decode()).scaleb(_SCALE[word])
    if value == value.to_integral_value():
        return str(int(value)).encode()
    return repr(float(value)).encode()

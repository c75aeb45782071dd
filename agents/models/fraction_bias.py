"""A preference, in constrained calls, for a percentage written as the fraction a rate expects.

A user writes "an annual interest rate of 5%"; a tool's ``rate`` is a ``number`` and, unless it
says it takes a percentage, wants ``0.05``. A small model copies the ``5``: the copy bias even
favours it. While a constrained call writes a number for such a property, ``FractionBias``
favours the digits of the fraction of a percentage named near the property's name instead, with
twice the copy bias's bonus (``WEIGHT``), and the copy bias stays off that number. It applies
only when all of these hold:

- the property's type is ``number`` (an ``integer`` such as a lightness in percent keeps it);
- its description does not say "percent" ("the interest rate as a percentage" keeps ``5.0``);
- a percentage of the text ("5%", "5 percent") stands within ``NEAR`` bytes of a word of the
  property's name, by its first letters as for the shape bias ("rate of return of 8%" for
  ``rate_of_return``), and no other property of the object is named nearer ("trait A
  contributing 40%" is ``trait_contributions``'s, not ``trait_values``').

Once the fraction is written whole, the tokens that end the number get the bonus.

The grammar's mask comes first, so only tokens it allows move.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from autan.agents.models.shape_bias import CallText, container_schema, naming, stems

WEIGHT = 2.0  # the bonus, in copy biases: the model's pull to copy the "5" is strong
NEAR = 40  # bytes between a percentage and a word of the property's name
_WORD = re.compile(rb"[a-z0-9]+")
_PERCENT = re.compile(rb"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:%|per\s?cent\b)")


class FractionBias:
    """The tokens that write a nearby percentage as a fraction, and the bonus they get."""

    def __init__(
        self,
        source: bytes,
        tools: Sequence[Mapping[str, Any]],
        table: Mapping[bytes, list[int]],
        ends: np.ndarray,
        bonus: float,
    ) -> None:
        self.source = source.lower()
        self.params = {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools}
        self.table = table
        self.ends = ends  # tokens that end a number: a comma, a closing bracket
        self.bonus = bonus
        self.percents = [
            (m.start(), m.end(), fraction(m.group(1))) for m in _PERCENT.finditer(self.source)
        ]
        self._near: dict[tuple[tuple[str, ...], str], list[bytes]] = {}

    def apply(self, scores: Any, call: CallText, value: bytes | None, number: bool) -> bool:
        """Favour the fraction's tokens, in place; True when this number is a fraction's.

        ``value`` is the number being written (``number`` True), or None between values.
        """
        if not self.bonus or not self.percents or (value is not None and not number):
            return False
        targets = self.targets(call)
        if not targets:
            return False
        ids = [i for i in self.tokens(value or b"", targets) if i < scores.shape[-1]]
        if not ids and value in targets:
            ids = np.flatnonzero(self.ends[: scores.shape[-1]]).tolist()
        if ids:
            scores[..., ids] += self.bonus
        return True

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
        props: Any = owner.get("properties") if owner else None
        if not isinstance(props, dict) or key is None:
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
        ids: set[int] = set()
        lead = (b"", b" ") if not value else (b"",)
        for target in targets:
            if not target.startswith(value):
                continue
            rest = target[len(value) :]
            for k in range(1, len(rest) + 1):
                for blank in lead:
                    ids.update(self.table.get(blank + rest[:k], ()))
        return sorted(ids)


def fraction(digits: bytes) -> bytes:
    """A percentage's digits as the fraction JSON writes: ``5`` as ``0.05``, ``40`` as ``0.4``."""
    return repr(float(Decimal(digits.decode()) / 100)).encode()

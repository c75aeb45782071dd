"""The shape of an injection heuristic: a named, weighted regex with anchor words."""

from __future__ import annotations

import re
from dataclasses import dataclass

_F = re.I | re.S


@dataclass(frozen=True)
class Rule:
    """One named pattern, how strongly a match signals injection, and its anchor words.

    Every match of ``pattern`` contains a word from each group of ``anchors`` (lower case,
    whitespace collapsed), so a text that lacks one is skipped without running the regex.
    tests/guards/test_injection_model.py checks that the shortcut never changes a result.
    """

    name: str
    pattern: re.Pattern[str]
    weight: float
    anchors: tuple[tuple[str, ...], ...]

    def search(self, text: str, folded: str) -> re.Match[str] | None:
        """The first match in ``text``; ``folded`` is ``fold(text)``, for the anchor check."""
        for group in self.anchors:
            for anchor in group:
                if anchor in folded:
                    break
            else:
                return None
        return self.pattern.search(text)


def rule(name: str, weight: float, anchors: str, pattern: str) -> Rule:
    """``anchors``: words separated by ``|``; ``&`` joins groups that must all be present."""
    groups = tuple(tuple(group.split("|")) for group in anchors.split("&"))
    return Rule(name, re.compile(pattern, _F), weight, groups)


# Characters whose lower case differs between str.lower() and the regex engine's re.I.
_FOLD = str.maketrans({"\u0307": None, "ſ": "s", "ı": "i"})


def fold(text: str) -> str:
    """Lower case with runs of whitespace as one space: what rule anchors are matched against."""
    low = text.lower()
    if not low.isascii() and ("\u0307" in low or "ſ" in low or "ı" in low):
        low = low.translate(_FOLD)
    return " ".join(low.split())

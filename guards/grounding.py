"""Grounding rail: every [n] in an answer cites a passage retrieved this turn, and overlaps it.

``ctx["citations"]`` lists this turn's passages as dicts with ``id`` and ``text``. A marker with
no such passage, or a cited sentence sharing too few content words with its passage, is
unsupported; ``redact`` removes the unsupported markers, ``block`` refuses the answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autan.guards.base import RailSpec, Stage, Verdict

_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])|\n+")
_WORD = re.compile(r"[A-Za-z0-9]{3,}")
_STOP = frozenset(
    "the and for are was were with that this from have has had not but its their they them "
    "which who whom what when where why how than then also into onto over under about after "
    "before between more most such can could would should may might will shall our your".split()
)


def content_words(text: str) -> set[str]:
    """Lower-cased words of three or more letters, stop words removed."""
    return {w.lower() for w in _WORD.findall(text)} - _STOP


@dataclass
class GroundingRail:
    """Checks citation markers against this turn's retrieved passages."""

    spec: RailSpec = field(default_factory=lambda: RailSpec("block", 0.5))
    min_overlap: float = 0.3
    name: str = "grounding"

    def check(self, text: str, stage: Stage, ctx: Mapping[str, Any]) -> Verdict:
        """Judge an answer; answers without markers pass."""
        passages = {
            str(c.get("id")): str(c.get("text") or c.get("snippet") or "")
            for c in ctx.get("citations") or ()
            if isinstance(c, Mapping)
        }
        reasons: list[str] = []
        bad: set[str] = set()
        for sentence in _SENTENCE.split(text):
            for m in _MARKER.finditer(sentence):
                if not passages and "," in m.group(1):
                    continue  # nothing retrieved: "[2, 3, 5]" is data, only "[n]" claims a source
                for n in (x.strip() for x in m.group(1).split(",")):
                    problem = self._problem(sentence, n, passages)
                    if problem:
                        reasons.append(problem)
                        bad.add(n)
        if not reasons:
            return Verdict.allow(text, self.name)
        redacted = _MARKER.sub(lambda m: _keep(m, bad), text)
        return self.spec.decide(self.name, text, 1.0, list(dict.fromkeys(reasons)), redacted)

    def _problem(self, sentence: str, n: str, passages: Mapping[str, str]) -> str | None:
        if n not in passages:
            return f"[{n}] cites no passage retrieved this turn"
        claim = content_words(_MARKER.sub(" ", sentence))
        if not claim:
            return None
        overlap = len(claim & content_words(passages[n])) / len(claim)
        if overlap < self.min_overlap:
            return f"sentence citing [{n}] does not match its passage (overlap {overlap:.2f})"
        return None


def _keep(match: re.Match[str], bad: set[str]) -> str:
    kept = [x.strip() for x in match.group(1).split(",") if x.strip() not in bad]
    return f"[{', '.join(kept)}]" if kept else ""

"""Toxicity rail: alt-profanity-check's linear model scores each sentence of an answer.

The model runs from its exported arrays (``toxicity_model.py``), so a check imports NumPy only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autan.guards import toxicity_model
from autan.guards.base import RailSpec, Stage, Verdict

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
REMOVED = "[removed: offensive language]"


@dataclass
class ToxicityRail:
    """Flags profane or abusive sentences; ``redact`` removes just those sentences."""

    spec: RailSpec = field(default_factory=lambda: RailSpec("block", 0.8))
    name: str = "toxicity"

    def check(self, text: str, stage: Stage, ctx: Mapping[str, Any]) -> Verdict:
        """Judge ``text`` sentence by sentence; never raises on content."""
        sentences = [s for s in _SENTENCE.split(text) if s.strip()]
        if not sentences:
            return Verdict.allow(text, self.name)
        probs = toxicity_model.load().predict_prob(sentences)
        score = max(probs)
        bad = [s for s, p in zip(sentences, probs, strict=True) if p >= self.spec.threshold]
        reasons = [f"{len(bad)} offensive sentence(s)"] if bad else []
        redacted = text
        for s in bad:
            redacted = redacted.replace(s, REMOVED)
        return self.spec.decide(self.name, text, score, reasons, redacted)

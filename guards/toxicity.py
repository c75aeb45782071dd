"""Toxicity rail: alt-profanity-check's linear model scores each sentence of an answer."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from autan.errors import missing_extra
from autan.guards.base import RailSpec, Stage, Verdict

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
REMOVED = "[removed: offensive language]"


@functools.lru_cache(maxsize=1)
def _predict() -> Callable[[Sequence[str]], Sequence[float]]:
    try:
        from profanity_check import predict_prob
    except ImportError:
        raise missing_extra("guards", "alt-profanity-check") from None
    return predict_prob  # type: ignore[no-any-return]


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
        probs = [float(p) for p in _predict()(sentences)]
        score = max(probs)
        bad = [s for s, p in zip(sentences, probs, strict=True) if p >= self.spec.threshold]
        reasons = [f"{len(bad)} offensive sentence(s)"] if bad else []
        redacted = text
        for s in bad:
            redacted = redacted.replace(s, REMOVED)
        return self.spec.decide(self.name, text, score, reasons, redacted)

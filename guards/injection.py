"""Prompt injection and jailbreak rail for user input and tool output (indirect injection).

The score is the larger of the targeted heuristics (guards/injection_rules.py and the agent,
steering and jailbreak rules it gathers) and the classifier's probability over the text's
segments, its hidden HTML and its decoded payloads (base64, ROT13, reversed), so one injected
paragraph in a long page is not diluted by the rest of the page. Structured tool output (YAML,
JSON, reprs with escaped newlines, HTML) is unpacked first (guards/injection_normalise.py): each
string value is judged on its own, as the planner will read it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from autan.guards.base import RailSpec, Stage, Verdict
from autan.guards.injection_model import Ensemble, InjectionModel, load_model
from autan.guards.injection_normalise import decoded, decoded_base64, fields, plain
from autan.guards.injection_rules import deobfuscate, heuristic_score, hidden_html

_SEGMENT_CHARS = 400
# Fewer words than this carry no instruction the rules would miss, and the classifier's
# probabilities on such fragments ("Best regards,", a date) are noise.
MIN_CLASSIFIED_WORDS = 5
_WORDISH = re.compile(r"[^\W\d_]{2,}|[\u3040-\u30ff\u4e00-\u9fff]{2}")
_MAX_SEGMENTS = 64
_SENTENCE = re.compile(r"(?<=[.!?。])\s+")
_PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*#>]|\d+\.)\s)")
REMOVED = "[removed: suspected prompt injection]"


def segments(text: str) -> list[str]:
    """Paragraphs, with long ones cut at sentence ends into pieces of about 400 characters."""
    out: list[str] = []
    for para in _PARAGRAPH.split(text):
        para = para.strip()
        if not para:
            continue
        if len(para) <= _SEGMENT_CHARS:
            out.append(para)
            continue
        piece = ""
        for sentence in _SENTENCE.split(para):
            if piece and len(piece) + len(sentence) > _SEGMENT_CHARS:
                out.append(piece)
                piece = ""
            piece = f"{piece} {sentence}".strip()
        if piece:
            out.append(piece)
    return out[:_MAX_SEGMENTS]


def views(text: str) -> tuple[str, list[str]]:
    """``text`` as read (escapes and tags undone) and its structured string values, if any."""
    return plain(text), fields(text)


@dataclass
class InjectionRail:
    """Flags instructions aimed at the model; ``redact`` cuts out the flagged segments."""

    spec: RailSpec = field(default_factory=RailSpec)
    model_spec: str = "builtin"
    classifier_threshold: float = 0.9
    name: str = "injection"
    _model: InjectionModel | None = field(default=None, repr=False)

    @property
    def model(self) -> InjectionModel:
        """The classifier, loaded on first use and shared process-wide."""
        if self._model is None:
            self._model = load_model(self.model_spec)
        return self._model

    def score(self, text: str) -> tuple[float, list[str]]:
        """P(injection) for ``text`` and the reasons behind it."""
        view, values = views(text)
        unpacked = "\n\n".join(values) if values else view
        parts = [s for v in values or [view] for s in segments(v)]
        hidden = hidden_html(text)
        encoded = decoded_base64(text) + [d for p in parts for d in decoded(p)]
        h_score, reasons = heuristic_score(text, hidden, encoded)
        if values or view.count("\n") > text.count("\n"):  # structure, escapes or tags
            u_score, u_reasons = heuristic_score(unpacked, [], [])
            h_score, reasons = max(h_score, u_score), list(dict.fromkeys(reasons + u_reasons))
        clean = deobfuscate(unpacked)
        if clean != unpacked:
            parts += segments(clean)
        parts = [p for p in parts if len(_WORDISH.findall(p)) >= MIN_CLASSIFIED_WORDS]
        parts += hidden + encoded
        if len(text) <= _SEGMENT_CHARS * 2 and text.strip() not in parts:
            parts.append(text)
        c_raw = max(self.classify(list(dict.fromkeys(parts))), default=0.0)
        c_score = self.calibrate(c_raw)
        if c_score >= self.spec.threshold:
            reasons.append(f"classifier score {c_raw:.2f}")
        return max(h_score, c_score), reasons

    def classify(self, parts: Sequence[str]) -> list[float]:
        """Classifier probabilities; an ensemble skips its slow models where they cannot matter."""
        if isinstance(self.model, Ensemble):
            return self.model.scores(parts, needed=self.uncalibrate(self.spec.threshold))
        return self.model.scores(parts)

    def uncalibrate(self, score: float) -> float:
        """The classifier probability that ``calibrate`` maps to ``score``."""
        t = min(max(self.classifier_threshold, 1e-6), 1 - 1e-6)
        return t + (score - 0.5) * 2 * (1 - t) if score >= 0.5 else score * 2 * t

    def calibrate(self, p: float) -> float:
        """Map the classifier's probability so that ``classifier_threshold`` lands on 0.5.

        The linear model is over-confident on benign text that shares attack vocabulary, so on
        its own it must be surer than the heuristics before the policy threshold is reached.
        """
        t = min(max(self.classifier_threshold, 1e-6), 1 - 1e-6)
        return 0.5 + 0.5 * (p - t) / (1 - t) if p >= t else 0.5 * p / t

    def check(self, text: str, stage: Stage, ctx: Mapping[str, Any]) -> Verdict:
        """Judge ``text``; never raises on content."""
        if not text.strip():
            return Verdict.allow(text, self.name)
        score, reasons = self.score(text)
        redacted = self.redact(text) if self.spec.action == "redact" and reasons else None
        return self.spec.decide(self.name, text, score, reasons, redacted)

    def redact(self, text: str) -> str:
        """``text`` without hidden HTML and without the segments that score as injection."""
        for part in hidden_html(text):
            text = text.replace(part, " ")
        flagged = self._flagged(segments(text))
        for seg in flagged:
            text = text.replace(seg, REMOVED)
        return text

    def _flagged(self, parts: Sequence[str]) -> list[str]:
        probs = self.classify(parts)
        return [
            p
            for p, c in zip(parts, probs, strict=True)
            if max(self.calibrate(c), heuristic_score(p)[0]) >= self.spec.threshold
        ]

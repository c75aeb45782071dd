"""The rail seam: every rail checks text at a stage and returns a Verdict; rails never raise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, runtime_checkable

Stage = Literal["input", "tool_output", "output", "code"]
Action = Literal["allow", "redact", "block", "escalate"]
STAGES: tuple[Stage, ...] = ("input", "tool_output", "output", "code")

# Stronger actions win when several rails speak about the same text.
_SEVERITY: dict[str, int] = {"allow": 0, "redact": 1, "escalate": 2, "block": 3}


@dataclass(frozen=True)
class Verdict:
    """What a rail decided about one text."""

    allowed: bool
    action: Action
    text: str
    rail: str | None = None
    reasons: tuple[str, ...] = ()
    score: float = 0.0

    @classmethod
    def allow(cls, text: str, rail: str | None = None) -> Verdict:
        """A verdict that lets the text through unchanged."""
        return cls(allowed=True, action="allow", text=text, rail=rail)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``autan guard check`` (DESIGN §4)."""
        return {
            "allowed": self.allowed,
            "action": self.action,
            "rail": self.rail,
            "reasons": list(self.reasons),
            "score": round(self.score, 4),
            "text": self.text,
        }


@runtime_checkable
class Rail(Protocol):
    """One check; ``check`` must return a Verdict for any text, never raise."""

    name: str

    def check(self, text: str, stage: Stage, ctx: Mapping[str, Any]) -> Verdict:
        """Judge ``text`` at ``stage``; ``ctx`` carries run facts (citations, run id, ...)."""
        ...


def combine(text: str, verdicts: Sequence[Verdict]) -> Verdict:
    """Fold rail verdicts run in sequence into one: the most severe action wins."""
    worst: Verdict | None = None
    reasons: list[str] = []
    for v in verdicts:
        reasons.extend(v.reasons)
        if worst is None or _SEVERITY[v.action] > _SEVERITY[worst.action]:
            worst = v
    if worst is None:
        return Verdict.allow(text)
    return replace(worst, reasons=tuple(reasons), text=verdicts[-1].text)


@dataclass
class GuardRunner:
    """Runs the rails a policy enables at each stage; redactions chain from rail to rail."""

    rails: Mapping[Stage, Sequence[Rail]] = field(default_factory=dict)

    def check(self, text: str, stage: Stage, ctx: Mapping[str, Any] | None = None) -> Verdict:
        """Run every rail of ``stage`` on ``text``; stop at the first block."""
        verdicts: list[Verdict] = []
        current = text
        for rail in self.rails.get(stage, ()):
            v = rail.check(current, stage, ctx or {})
            verdicts.append(v)
            current = v.text
            if v.action == "block":
                break
        return combine(text, verdicts)


def passthrough_runner() -> GuardRunner:
    """A runner with no rails: everything is allowed (used before a policy is loaded)."""
    return GuardRunner()

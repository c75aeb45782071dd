"""The rail seam: every rail checks text at a stage and returns a Verdict; rails never raise."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from autan.errors import ConfigError

if TYPE_CHECKING:
    from autan.guards.capabilities import CapabilityPolicy

# ``code``, ``url`` and ``path`` check tool arguments of that declared kind before the call.
Stage = Literal["input", "tool_output", "output", "code", "url", "path"]
Action = Literal["allow", "redact", "block", "escalate"]
STAGES: tuple[Stage, ...] = ("input", "tool_output", "output", "code", "url", "path")
ACTIONS: tuple[Action, ...] = ("allow", "redact", "block", "escalate")

# Stronger actions win when several rails speak about the same text.
_SEVERITY: dict[str, int] = {"allow": 0, "redact": 1, "escalate": 2, "block": 3}

log = logging.getLogger("autan.guards")


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
    def allow(cls, text: str, rail: str | None = None, score: float = 0.0) -> Verdict:
        """A verdict that lets the text through unchanged."""
        return cls(allowed=True, action="allow", text=text, rail=rail, score=score)

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


@dataclass(frozen=True)
class RailSpec:
    """What a policy says one rail does at one stage: its action once the score reaches threshold.

    ``allow`` as the action means "audit only": the finding is logged, the text passes.
    """

    action: Action = "block"
    threshold: float = 0.5

    def decide(
        self,
        rail: str,
        text: str,
        score: float,
        reasons: Sequence[str] = (),
        redacted: str | None = None,
    ) -> Verdict:
        """Turn a rail's score into the policy's verdict (redact falls back to the text)."""
        if score < self.threshold or not reasons:
            return Verdict.allow(text, rail, score)
        why = tuple(reasons)
        if self.action == "redact":
            return Verdict(True, "redact", text if redacted is None else redacted, rail, why, score)
        return Verdict(self.action == "allow", self.action, text, rail, why, score)


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
    final = verdicts[-1].text
    if worst.action == "allow":
        top = max(v.score for v in verdicts)
        return Verdict(True, "allow", final, None, tuple(reasons), top)
    return replace(worst, reasons=tuple(reasons), text=final)


Observer = Callable[[str, Stage, Verdict, Mapping[str, Any]], None]


@dataclass
class GuardRunner:
    """Runs the rails a policy enables at each stage; redactions chain from rail to rail.

    ``observers`` (e.g. the audit log) see every rail's verdict with the text it judged.
    ``capabilities`` is the information-flow policy the guarded tool runner applies to tool
    calls (None: that layer is off).
    """

    rails: Mapping[Stage, Sequence[Rail]] = field(default_factory=dict)
    observers: list[Observer] = field(default_factory=list)
    capabilities: CapabilityPolicy | None = None

    def check(self, text: str, stage: Stage, ctx: Mapping[str, Any] | None = None) -> Verdict:
        """Run every rail of ``stage`` on ``text``; stop at the first block."""
        facts = ctx or {}
        verdicts: list[Verdict] = []
        current = text
        for rail in self.rails.get(stage, ()):
            v = _safe_check(rail, current, stage, facts)
            for observe in self.observers:
                observe(current, stage, v, facts)
            verdicts.append(v)
            current = v.text
            if v.action == "block":
                break
        return combine(text, verdicts)


def _safe_check(rail: Rail, text: str, stage: Stage, ctx: Mapping[str, Any]) -> Verdict:
    """A rail that fails on some input blocks it (fail closed) instead of crashing the turn.

    A ``ConfigError`` (a model file that is missing or refused, an extra not installed) is not
    about the input: it propagates, so the user sees what to fix instead of every text being
    blocked. Nothing passes the rail either way.
    """
    try:
        return rail.check(text, stage, ctx)
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - a guard must fail closed, never crash the graph
        log.warning("rail %s failed: %s", rail.name, type(exc).__name__)
        reason = f"the {rail.name} rail failed ({type(exc).__name__}); blocked to be safe"
        return Verdict(False, "block", text, rail.name, (reason,), 1.0)


def passthrough_runner() -> GuardRunner:
    """A runner with no rails: everything is allowed (used before a policy is loaded)."""
    return GuardRunner()

"""The one guarded tool runner: the agent graph and the automation engine call tools through it.

Before a call, every argument the tool declares as code or a command passes the ``code`` rails,
every URL the ``url`` rails, every path the ``path`` rails (an undeclared tool's every string
argument passes the ``code`` rails), then the capability policy traces the consequential
arguments through the run's provenance ledger. After the call, the raw result enters the ledger
with the tool's declared output trust, and the result passes the ``tool_output`` rails before
anything reads it. What to do with an ``escalate`` is the caller's: ``ask`` turns it into a
LangGraph interrupt (``settle``), or a refusal (``deny``) where no human can answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.tools import BaseTool

from autan import tracing
from autan.guards.base import GuardRunner, Stage, Verdict, combine
from autan.tools import delegation
from autan.tools.base import ToolOutput, ToolResult, fail, run_output
from autan.tools.fields import entry
from autan.tools.provenance import Provenance
from autan.tools.spec import UNDECLARED, ArgKind, Trust, spec_of

Ask = Callable[[str, Verdict], Verdict]
ARG_STAGES: dict[ArgKind, Stage] = {
    ArgKind.CODE: "code",
    ArgKind.COMMAND: "code",
    ArgKind.URL: "url",
    ArgKind.PATH: "path",
}
_MIN_CHECKED = 3  # strings shorter than this carry no instruction worth a rail's time
# Identifiers autan itself puts in tool results (citation keys are path#content-hash): a hash
# is not a secret, and redacting it would break citation numbering.
_IDENTIFIERS = frozenset({"key", "content_hash", "chunk_id", "sha256"})


def record(stage: str, verdict: Verdict) -> dict[str, Any]:
    """The verdict as kept in state (no text: it may hold what a rail redacted)."""
    return {
        "stage": stage,
        "action": verdict.action,
        "rail": verdict.rail,
        "reasons": list(verdict.reasons),
        "score": verdict.score,
    }


def settle(stage: str, verdict: Verdict, **extra: Any) -> Verdict:
    """Ask a human about an ``escalate`` verdict (a LangGraph interrupt); others pass through.

    The interrupt payload is ``{"type": "guard", "stage", "rail", "reasons", **extra}``. The
    resume value ``{"decision": "approve"}``, ``"approve"`` or ``True`` lets it through as
    allowed; anything else blocks it. Call it only inside a graph node.
    """
    from langgraph.types import interrupt

    if verdict.action != "escalate":
        return verdict
    answer = interrupt(
        {
            "type": "guard",
            "stage": stage,
            "rail": verdict.rail,
            "reasons": list(verdict.reasons),
            **extra,
        }
    )
    if answer is True or answer == "approve" or _approved(answer):
        return Verdict(allowed=True, action="allow", text=verdict.text, rail=verdict.rail)
    return _blocked(verdict, "denied by a human reviewer")


def _approved(answer: Any) -> bool:
    return isinstance(answer, Mapping) and answer.get("decision") == "approve"


def _blocked(verdict: Verdict, why: str) -> Verdict:
    return Verdict(
        allowed=False,
        action="block",
        text=verdict.text,
        rail=verdict.rail,
        reasons=(*verdict.reasons, why),
        score=verdict.score,
    )


def deny(stage: str, verdict: Verdict) -> Verdict:
    """``ask`` where no human can answer: an escalation is refused."""
    if verdict.action != "escalate":
        return verdict
    return _blocked(verdict, "no human could approve it here")


def refusal(stage: str, verdict: Verdict) -> str:
    """The safe explanation shown instead of blocked text."""
    why = "; ".join(verdict.reasons) or "policy"
    rail = verdict.rail or "guard"
    if stage not in ("input", "output"):  # read by the planner, not the user
        what = (
            "This tool result was withheld" if stage == "tool_output" else "This call was refused"
        )
        return f"{what}: the {rail} rail flagged it ({why}). Do not retry it; carry on without it."
    where = {"input": "your message", "output": "the answer"}
    return (
        f"I can't continue: {where.get(stage, 'this step')} was blocked by the "
        f"{verdict.rail or 'guard'} rail ({why})."
    )


def guard_value(runner: GuardRunner, value: Any, ctx: dict[str, Any], found: list[Verdict]) -> Any:
    """Check every string inside ``value``; return it with redactions applied."""
    if isinstance(value, str):
        if len(value) < _MIN_CHECKED:
            return value
        verdict = runner.check(value, "tool_output", ctx)
        if verdict.action != "allow":
            found.append(verdict)
        return verdict.text
    if isinstance(value, dict):
        return {
            k: v if k in _IDENTIFIERS else guard_value(runner, v, ctx, found)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [guard_value(runner, v, ctx, found) for v in value]
    return value


def _strings(value: Any, out: list[str]) -> list[str]:
    if isinstance(value, str) and len(value) >= _MIN_CHECKED:
        out.append(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            if k not in _IDENTIFIERS:
                _strings(v, out)
    elif isinstance(value, list):
        for v in value:
            _strings(v, out)
    return out


def guard_result(runner: GuardRunner, value: Any, ctx: dict[str, Any]) -> tuple[Any, list[Verdict]]:
    """A tool result with redactions applied, and the verdicts that were not ``allow``.

    All strings are checked at once first (one pass of the rails per result, paragraphs kept
    apart), then string by string only when something must be redacted in place.
    """
    texts = _strings(value, [])
    if not texts:
        return value, []
    whole = runner.check("\n\n".join(texts), "tool_output", ctx)
    if whole.action == "allow":
        return value, []
    if whole.action != "redact":
        return value, [whole]
    found: list[Verdict] = []
    cleaned = guard_value(runner, value, ctx, found)
    return cleaned, found or [whole]


@dataclass(frozen=True)
class Screened:
    """A call after its checks: the arguments to run with, or the refusal to return instead."""

    args: dict[str, Any]
    refused: ToolResult | None = None
    verdicts: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Guarded:
    """A finished guarded call: what the reader may see, and what the guards decided."""

    result: ToolResult
    verdicts: list[dict[str, Any]]


@dataclass(frozen=True)
class GuardedTools:
    """Rails by declared argument kind, the capability policy, and the tool-output rails."""

    guards: GuardRunner

    def screen(
        self,
        tool: BaseTool,
        args: Mapping[str, Any],
        ledger: Provenance,
        *,
        ask: Ask = deny,
        facts: Mapping[str, Any] | None = None,
    ) -> Screened:
        """Check one call before it runs; nothing here has side effects besides ``ask``."""
        spec = spec_of(tool)
        ctx = {**(facts or {}), "tool": tool.name}
        current = dict(args)
        recorded: list[dict[str, Any]] = []
        for name, stage in _arg_stages(tool, current):
            value = current[name]
            verdict = ask(stage, self.guards.check(value, stage, ctx))
            recorded.append(record(stage, verdict))
            if verdict.action == "block":
                return Screened(
                    current, fail("SecurityViolation", refusal(stage, verdict)), recorded
                )
            current[name] = verdict.text if verdict.action == "redact" else value
        caps = self.guards.capabilities
        if caps is not None:
            with tracing.span("guard capability", {"autan.guard.stage": "capability"}) as live:
                verdict = caps.check(tool.name, spec, current, ledger)
                live.set_attribute("autan.guard.action", verdict.action)
            if verdict.action != "allow":
                verdict = ask("capability", verdict)
                recorded.append(record("capability", verdict))
            if verdict.action == "block":
                refused = fail("SecurityViolation", refusal("capability", verdict))
                return Screened(current, refused, recorded)
        return Screened(current, None, recorded)

    @property
    def labels(self) -> bool:
        """Whether results get designation labels (the capability policy is on)."""
        return self.guards.capabilities is not None

    @property
    def endorses(self) -> bool:
        """Whether the capability policy endorses designated content (``endorse`` not ``none``)."""
        caps = self.guards.capabilities
        return caps is not None and caps.endorse != "none"

    def endorsed(self, tool: BaseTool, args: Mapping[str, Any], ledger: Provenance) -> bool:
        """Whether the result of this call is content the user designated (``ledger`` before it)."""
        caps = self.guards.capabilities
        spec = spec_of(tool)
        if caps is None or not self.endorses or spec.output_trust != Trust.UNTRUSTED:
            return False
        return ledger.designated(args, caps.designators(spec))

    def run(self, tool: BaseTool, args: Mapping[str, Any]) -> ToolOutput:
        """Run one screened call: its typed result, labelled with the tool's output trust."""
        return run_output(tool, args)

    def entry(
        self, tool: BaseTool, args: Mapping[str, Any], out: ToolOutput, ledger: Provenance
    ) -> dict[str, Any]:
        """The ledger entry of a typed result as kept in state (``labelled``)."""
        return self.labelled(tool, args, out.to_dict(), out.trust, ledger)

    def labelled(
        self,
        tool: BaseTool,
        args: Mapping[str, Any],
        raw: Any,
        trust: Trust,
        ledger: Provenance,
        origin: str = "",
    ) -> dict[str, Any]:
        """The ledger entry of a raw result (``fields.entry``; ``ledger``: before the call).

        Its trust label, the tool's declared structure fields apart from its free text, and what
        the user's words designated or delegated to it (``endorsed``, tools/delegation.py).
        """
        endorsed = self.endorsed(tool, args, ledger)
        how = delegation.flags(spec_of(tool), args, ledger) if self.labels else {}
        return entry(trust, origin or tool.name, raw, spec_of(tool).structure, endorsed, **how)

    def output(
        self,
        name: str,
        result: Any,
        *,
        ask: Ask = deny,
        facts: Mapping[str, Any] | None = None,
    ) -> Guarded:
        """``result`` after the ``tool_output`` rails: redacted, or withheld on a block."""
        ctx = {**(facts or {}), "tool": name}
        cleaned, found = guard_result(self.guards, result, ctx)
        text = cleaned if isinstance(cleaned, str) else ""
        verdict = ask("tool_output", combine(text, found))
        if verdict.action == "block":
            cleaned = fail("SecurityViolation", refusal("tool_output", verdict))
        return Guarded(cleaned, [record("tool_output", verdict)])

    def call(
        self, tool: BaseTool, args: Mapping[str, Any], ledger: Provenance, **how: Any
    ) -> Guarded:
        """Screen, run, record and guard one call (for callers with no graph of their own).

        ``how`` takes ``ask`` and ``facts`` as ``screen`` does.
        """
        screened = self.screen(tool, args, ledger, **how)
        if screened.refused is not None:
            return Guarded(screened.refused, screened.verdicts)
        typed = self.run(tool, screened.args)
        ledger.restore(self.entry(tool, screened.args, typed, ledger))
        out = self.output(tool.name, typed.to_dict(), **how)
        return Guarded(out.result, screened.verdicts + out.verdicts)


def _arg_stages(tool: BaseTool, args: Mapping[str, Any]) -> list[tuple[str, Stage]]:
    """Which string arguments pass which rail stage, by the tool's declaration."""
    spec = spec_of(tool)
    if spec is UNDECLARED:
        return [(name, "code") for name, v in args.items() if isinstance(v, str)]
    return [
        (name, ARG_STAGES[kind])
        for name, kind in spec.args.items()
        if kind in ARG_STAGES and isinstance(args.get(name), str)
    ]

"""The capability policy: information-flow control over tool arguments.

Once untrusted content (a web page, a workspace file, a retrieved passage) is in a turn, a call
to a tool whose declared effect can hurt (egress, local writes, code) is refused or sent to a
human when one of its consequential arguments (recipient, URL, path, amount, command, code)
carries a value that appears in the untrusted content but not in the user's own words or in
trusted tool output. It does not try to spot the attack: it holds when the model obeys it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from autan.guards.base import Verdict
from autan.tools.provenance import Provenance
from autan.tools.spec import UNDECLARED, ArgKind, Effect, ToolSpec

RAIL = "capability"


class CapabilityPolicy(BaseModel):
    """The ``capabilities:`` section of a guard policy file (see docs/security.md)."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    action: Literal["block", "escalate"] = "escalate"
    require: Literal["not_untrusted", "trusted"] = "not_untrusted"
    effects: list[Effect] = Field(
        default_factory=lambda: [Effect.EGRESS, Effect.LOCAL_WRITE, Effect.CODE]
    )
    kinds: list[ArgKind] = Field(
        default_factory=lambda: [
            ArgKind.RECIPIENT,
            ArgKind.URL,
            ArgKind.PATH,
            ArgKind.AMOUNT,
            ArgKind.COMMAND,
            ArgKind.CODE,
        ]
    )
    exempt_tools: list[str] = Field(default_factory=list)

    def check(
        self, name: str, spec: ToolSpec, args: Mapping[str, Any], ledger: Provenance
    ) -> Verdict:
        """The verdict on calling tool ``name`` (declared ``spec``) with ``args`` now."""
        text = json.dumps({"tool": name, "args": dict(args)}, ensure_ascii=False, default=str)
        if not self.enabled or name in self.exempt_tools or spec.effect not in self.effects:
            return Verdict.allow(text, RAIL)
        if not ledger.tainted:
            return Verdict.allow(text, RAIL)
        reasons = [
            reason
            for arg, kind in self._checked(spec, args)
            if (reason := self._reason(arg, args[arg], kind, ledger))
        ]
        if not reasons:
            return Verdict.allow(text, RAIL)
        return Verdict(False, self.action, text, RAIL, tuple(reasons), 1.0)

    def _checked(self, spec: ToolSpec, args: Mapping[str, Any]) -> list[tuple[str, ArgKind | None]]:
        """The arguments to trace: the declared consequential ones, or all of an undeclared tool."""
        if spec is UNDECLARED:
            return [(a, None) for a in args]
        return [(a, k) for a, k in spec.args.items() if k in self.kinds and a in args]

    def _reason(self, arg: str, value: Any, kind: ArgKind | None, ledger: Provenance) -> str:
        trace = ledger.trace(value, kind)
        if trace.vouched:
            return ""
        shown = str(value)[:80]
        if trace.untrusted:
            where = ", ".join(trace.untrusted[:3])
            return (
                f"argument {arg}={shown!r} comes from untrusted content ({where}), "
                "not from the user's request"
            )
        if self.require == "trusted":
            return (
                f"argument {arg}={shown!r} is not in the user's request or trusted output, "
                "and untrusted content is in this run"
            )
        return ""


def disabled() -> CapabilityPolicy:
    """A policy that checks nothing (the layer switched off)."""
    return CapabilityPolicy(enabled=False)

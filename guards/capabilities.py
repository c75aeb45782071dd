"""The capability policy: information-flow control over tool arguments.

Once untrusted content (a web page, a workspace file, a retrieved passage) is in a turn, a call
to a tool whose declared effect can hurt (egress, local writes, code) is refused or sent to a
human when one of its consequential arguments (recipient, URL, path, amount, command, code)
carries a value that appears in the untrusted content but not in the user's own words or in
trusted tool output. It does not try to spot the attack: it holds when the model obeys it.
With ``text_links`` (off by default), free-text arguments (a message body, a title) are traced
for the links and addresses in them: a message that relays a third party's URL or address is how
phishing travels, but so is a forwarded document that merely quotes one.

``endorse`` (off by default) widens what vouches for a value: content the user designated (a
call that reads the file, URL, sender, channel or search the user's request names) vouches for
the values in it, because the user delegated the choice to it. An attacker who writes that very
content can then steer the call (docs/security.md; measured in docs/benchmarks.md).

``follow_links`` and ``addresses`` (on by default) are two narrower delegations the user's own
words make (tools/delegation.py): a public read may fetch a link written verbatim in the channel,
inbox or file the user names; the one e-mail address on a page the user names by its address
vouches for the person the user names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from autan.guards.base import Verdict
from autan.tools import delegation
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
    endorse: Literal["none", "named", "searched"] = "none"
    text_links: bool = False  # also trace the URLs and addresses inside free-text arguments
    follow_links: Literal["none", "named", "any"] = "named"
    addresses: Literal["none", "named"] = "named"

    def designators(self, spec: ToolSpec) -> dict[str, ArgKind]:
        """The arguments by which a call designates what it reads (see ``Provenance.designated``).

        ``named``: identifiers (a path or id, a URL, an address, a channel or user name).
        ``searched``: also a read-only call's free-text query (the file, mail or event the user
        described). ``none``: nothing is endorsed. An undeclared tool designates nothing.
        """
        if not self.enabled or self.endorse == "none" or spec is UNDECLARED:
            return {}
        kinds = {ArgKind.PATH, ArgKind.URL, ArgKind.RECIPIENT}
        if self.endorse == "searched" and spec.effect == Effect.READ_ONLY:
            kinds.add(ArgKind.TEXT)
        return {a: k for a, k in spec.args.items() if k in kinds}

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
            if not self._delegated(arg, kind, spec, args, ledger)
            if (reason := self._reason(arg, args[arg], kind, ledger))
        ]
        if not reasons:
            return Verdict.allow(text, RAIL)
        return Verdict(False, self.action, text, RAIL, tuple(reasons), 1.0)

    def _checked(self, spec: ToolSpec, args: Mapping[str, Any]) -> list[tuple[str, ArgKind | None]]:
        """The declared consequential arguments and free text (for its links), or every one."""
        if spec is UNDECLARED:
            return [(a, None) for a in args]
        kinds = {*self.kinds, ArgKind.TEXT} if self.text_links else set(self.kinds)
        return [(a, k) for a, k in spec.args.items() if k in kinds and a in args]

    def _delegated(
        self,
        arg: str,
        kind: ArgKind | None,
        spec: ToolSpec,
        args: Mapping[str, Any],
        ledger: Provenance,
    ) -> bool:
        """Whether the user's words delegated this value to content they name (delegation.py)."""
        if kind == ArgKind.URL and spec.public_read:
            return delegation.followed(args[arg], ledger, self.follow_links)
        if kind == ArgKind.RECIPIENT and self.addresses == "named":
            return delegation.addressed(arg, args[arg], spec, args, ledger)
        return False

    def _reason(self, arg: str, value: Any, kind: ArgKind | None, ledger: Provenance) -> str:
        text = kind == ArgKind.TEXT and ArgKind.TEXT not in self.kinds
        trace = ledger.trace(value, kind, only_links=text)
        if trace.vouched:
            return ""
        shown = str(value)[:80]
        if trace.untrusted:
            where = ", ".join(trace.untrusted[:3])
            what = "a link or address in " if text else ""
            return (
                f"{what}argument {arg}={shown!r} comes from untrusted content ({where}), "
                "not from the user's request"
            )
        if self.require == "trusted" and not text:
            return (
                f"argument {arg}={shown!r} is not in the user's request or trusted output, "
                "and untrusted content is in this run"
            )
        return ""


def disabled() -> CapabilityPolicy:
    """A policy that checks nothing (the layer switched off)."""
    return CapabilityPolicy(enabled=False)

"""What a tool declares about itself: its effect, the trust of its output, what its arguments carry.

The guarded tool runner and the capability policy read these declarations instead of guessing
from argument names. A tool without a declaration is treated as the most dangerous kind: it may
send data out and its output is untrusted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from autan.errors import ConfigError

if TYPE_CHECKING:  # the guard rails read specs without loading LangChain
    from langchain_core.tools import BaseTool

SPEC_KEY = "autan"


class Effect(StrEnum):
    """What calling a tool can do to the world."""

    READ_ONLY = "read_only"
    LOCAL_WRITE = "local_write"
    EGRESS = "egress"
    CODE = "code"


class Trust(StrEnum):
    """Who could have written a piece of text the planner reads."""

    USER = "user"
    TRUSTED = "trusted"
    UNTRUSTED = "untrusted"


class ArgKind(StrEnum):
    """What an argument's value carries; each kind has a rail or a policy check."""

    CODE = "code"
    COMMAND = "command"
    URL = "url"
    PATH = "path"
    RECIPIENT = "recipient"
    AMOUNT = "amount"
    TEXT = "text"


@dataclass(frozen=True)
class ToolSpec:
    """A tool's declaration, kept in ``tool.metadata["autan"]``."""

    effect: Effect = Effect.EGRESS
    output_trust: Trust = Trust.UNTRUSTED
    args: Mapping[str, ArgKind] = field(default_factory=lambda: MappingProxyType({}))
    requires_approval: bool = False  # a human approves every call before it runs
    # Field paths of the result the platform sets (ids, headers, member lists): see tools/fields.py
    structure: tuple[str, ...] = ()
    # It only reads a public page, anonymously: no cookies, credentials or user headers, public
    # addresses only (fetch_url). Such a fetch may follow a link the user pointed at.
    public_read: bool = False

    def args_of(self, kind: ArgKind) -> list[str]:
        """Names of the arguments that carry ``kind``."""
        return [name for name, k in self.args.items() if k == kind]


UNDECLARED = ToolSpec()


def declare(
    tool: BaseTool,
    *,
    effect: Effect | str,
    output_trust: Trust | str,
    args: Mapping[str, ArgKind | str] | None = None,
    requires_approval: bool = False,
    structure: Sequence[str] = (),
    public_read: bool = False,
) -> BaseTool:
    """Attach a declaration to ``tool`` (returned for chaining); bad values raise ConfigError.

    ``structure``: the result's field paths the platform sets, not a third party (tools/fields.py).
    ``public_read``: the tool only fetches public pages without ambient authority (no cookies,
    credentials or user headers; public addresses only), so it may follow a link found in
    content the user's request names (docs/security.md).
    """
    try:
        spec = ToolSpec(
            effect=Effect(effect),
            output_trust=Trust(output_trust),
            args=MappingProxyType({k: ArgKind(v) for k, v in (args or {}).items()}),
            requires_approval=requires_approval,
            structure=field_paths(structure),
            public_read=bool(public_read),
        )
    except ValueError as exc:
        raise ConfigError(
            f"tool {tool.name!r} has a bad declaration: {exc}",
            hint=f"effect is one of {[e.value for e in Effect]}, "
            f"trust one of {[t.value for t in Trust]}, "
            f"argument kinds one of {[a.value for a in ArgKind]}, "
            "structure fields dot-separated keys such as 'output.sender'",
        ) from None
    tool.metadata = {**(tool.metadata or {}), SPEC_KEY: spec}
    return tool


def field_paths(paths: Sequence[str]) -> tuple[str, ...]:
    """Structure field paths as declared; ValueError names a malformed one."""
    if isinstance(paths, str):
        raise ValueError(f"structure must be a list of field paths, not the string {paths!r}")
    for path in paths:
        if not isinstance(path, str) or not path or any(not p for p in path.split(".")):
            raise ValueError(f"bad structure field path {path!r}")
    return tuple(paths)


def spec_of(tool: BaseTool) -> ToolSpec:
    """The tool's declaration; an undeclared tool gets the most cautious one."""
    found: Any = (tool.metadata or {}).get(SPEC_KEY)
    return found if isinstance(found, ToolSpec) else UNDECLARED

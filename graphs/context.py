"""The frozen bundle of dependencies every node receives (no globals)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel

from autan.config import Settings
from autan.guards.base import GuardRunner, passthrough_runner
from autan.tools.base import ToolCatalog
from autan.tools.spec import spec_of

Recall = Callable[[str], Sequence[str]]


@dataclass(frozen=True)
class AgentContext:
    """Model, tools, guards and settings of one agent."""

    model: BaseChatModel
    tools: ToolCatalog
    settings: Settings
    guards: GuardRunner = field(default_factory=passthrough_runner)
    instructions: str | None = None
    recall: Recall | None = None

    @property
    def requires_approval(self) -> frozenset[str]:
        """Tools that run only after a human approves the call (by setting or by declaration)."""
        declared = {t.name for t in self.tools if spec_of(t).requires_approval}
        return frozenset(self.settings.requires_approval) | declared

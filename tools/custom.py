"""The user's own tools: named in ``[tools.custom]`` of autan.toml, or published as entry points.

A target is ``module:attr`` and names one of: a LangChain tool, a typed function with a
Google-style docstring (it becomes a tool), or a factory, a function whose only parameter is
called ``settings``, that returns a tool. Each tool keeps the declaration it made with
``autan.tools.spec.declare``; the config may set or override effect, trust and argument kinds.
A tool that declares nothing is treated as the most cautious kind (egress, untrusted output).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib.metadata import entry_points
from typing import Any

from langchain_core.tools import BaseTool

from autan.config import CustomToolSettings, Settings
from autan.errors import ConfigError
from autan.tools.base import make_tool
from autan.tools.spec import declare, spec_of

ENTRY_POINT_GROUP = "autan.tools"


@dataclass(frozen=True)
class UserTool:
    """Where one user tool comes from, and how to build it."""

    name: str
    origin: str  # "module:attr", for error messages
    load_target: Callable[[], Any]
    entry: CustomToolSettings

    def build(self, settings: Settings) -> BaseTool:
        """Import and build the tool; any failure is one ConfigError naming tool and module."""
        try:
            obj = self.load_target()
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - a user's module may fail in any way on import
            raise ConfigError(
                f"tool {self.name!r} cannot be loaded from {self.origin}: "
                f"{type(exc).__name__}: {exc}",
                hint="fix the module or remove the tool from [tools.custom] in autan.toml",
            ) from None
        return _declared(as_tool(obj, self.name, self.origin, settings), self.entry)


def import_target(target: str) -> Any:
    """The object ``module:attr`` names (``attr`` may be dotted)."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(
            f"tool target {target!r} is not 'module:attribute'",
            hint="write it like 'my_tools:weather'",
        )
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _is_factory(obj: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        return False
    return params == ["settings"]


def as_tool(obj: Any, name: str, origin: str, settings: Settings) -> BaseTool:
    """A LangChain tool called ``name`` from a tool, a function or a factory."""
    if not isinstance(obj, BaseTool) and callable(obj) and _is_factory(obj):
        obj = obj(settings)
    if isinstance(obj, BaseTool):
        tool = obj if obj.name == name else obj.model_copy(update={"name": name})
    elif inspect.isfunction(obj) or inspect.ismethod(obj):
        tool = make_tool(obj, name=name)
    else:
        raise ConfigError(
            f"tool {name!r} from {origin} is a {type(obj).__name__}, not a tool or function",
            hint="point it at a LangChain tool, a typed function, or a factory(settings)",
        )
    if not tool.description:
        raise ConfigError(
            f"tool {name!r} from {origin} has no description",
            hint="give the function a docstring: the planner reads it to pick the tool",
        )
    return tool


def _declared(tool: BaseTool, entry: CustomToolSettings) -> BaseTool:
    """Apply the config's declaration on top of the tool's own."""
    own = spec_of(tool)
    if entry.effect is None and entry.trust is None and not entry.args:
        if not entry.requires_approval and entry.structure is None and entry.public_read is None:
            return tool
    return declare(
        tool,
        effect=entry.effect or own.effect,
        output_trust=entry.trust or own.output_trust,
        args={**own.args, **entry.args},
        requires_approval=entry.requires_approval or own.requires_approval,
        structure=own.structure if entry.structure is None else entry.structure,
        public_read=own.public_read if entry.public_read is None else entry.public_read,
    )


def user_tools(settings: Settings) -> dict[str, UserTool]:
    """Every user tool by name: entry points first, then autan.toml (which wins on a clash)."""
    found: dict[str, UserTool] = {}
    if settings.tools.entry_points:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            found[ep.name] = UserTool(
                ep.name, ep.value, ep.load, CustomToolSettings(target=ep.value)
            )
    for name, raw in settings.tools.custom.items():
        entry = CustomToolSettings(target=raw) if isinstance(raw, str) else raw
        found[name] = UserTool(name, entry.target, partial(import_target, entry.target), entry)
    return found

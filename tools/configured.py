"""Every tool one ``Settings`` configures: built-ins, the user's own tools, MCP servers' tools."""

from __future__ import annotations

import logging
from functools import cache

from langchain_core.tools import BaseTool

from autan.config import Settings
from autan.errors import AutanError, NotFoundError
from autan.tools.custom import user_tools
from autan.tools.registry import BUILTINS, ToolRegistry, unknown_tool
from autan.tools.resources import ToolResources
from autan.tools.web.runner import LoopThread

log = logging.getLogger("autan")


@cache
def mcp_loop() -> LoopThread:
    """The event loop MCP connections live on (one thread, started on first use)."""
    return LoopThread("autan-mcp")


def _user(settings: Settings, wanted: set[str] | None) -> list[BaseTool]:
    tools = []
    for name, source in user_tools(settings).items():
        if wanted is not None and name not in wanted:
            continue
        try:
            tools.append(source.build(settings))
        except AutanError as exc:
            if wanted is not None:
                raise
            log.warning("%s (skipped)", exc.one_line())
    return tools


def _mcp(settings: Settings, wanted: set[str] | None) -> list[BaseTool]:
    servers = settings.tools.mcp
    if not servers:
        return []
    from autan.tools.mcp.client import PREFIX_SEP, mcp_tools

    tools: list[BaseTool] = []
    for server, cfg in servers.items():
        prefix = f"{server}{PREFIX_SEP}"
        only = (
            None if wanted is None else {n[len(prefix) :] for n in wanted if n.startswith(prefix)}
        )
        if only is not None and not only:
            continue
        try:
            tools += mcp_tools(server, cfg, mcp_loop(), settings.data_dir / "logs", only)
        except AutanError as exc:
            if only is not None:
                raise
            log.warning("%s (its tools are skipped)", exc.one_line())
    return tools


def configured_tools(
    settings: Settings, names: list[str] | None = None, resources: ToolResources | None = None
) -> list[BaseTool]:
    """The tools, in order: built-ins, user tools (a user tool may replace a built-in), MCP.

    The built-ins hold their sessions and stores in ``resources`` (one of their own if None).
    """
    wanted = None if names is None else set(names)
    builtin = [n for n in BUILTINS if wanted is None or n in wanted]
    tools = list(ToolRegistry.builtin(settings, builtin, resources)) + _user(settings, wanted)
    tools += _mcp(settings, wanted)
    if wanted is not None:
        have = {t.name for t in tools}
        for name in names or []:
            if name in have:
                continue
            if name in BUILTINS:
                raise NotFoundError(f"tool {name!r} is not installed in this build of autan")
            raise unknown_tool(name, [*BUILTINS, *user_tools(settings)])
    return tools

"""``autan mcp``: serve autan's tools over MCP, on stdio or streamable HTTP (loopback only)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

import typer

from autan.cli._common import settings_for
from autan.errors import UserInputError


def _loopback(host: str) -> str:
    try:
        if host == "localhost" or ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise UserInputError(
        f"autan mcp serves on a loopback address only, not {host!r}",
        hint="use --host 127.0.0.1 and put an authenticating proxy in front for other hosts",
    )


def _ask(model: str | None) -> Any:
    from autan.api import Agent

    agent = Agent(settings=settings_for(model))

    def ask(question: str) -> dict[str, Any]:
        if not question.strip():
            return {"ok": False, "error": {"type": "UserInputError", "message": "empty question"}}
        answer = agent.ask(question)
        if answer.interrupted:
            message = "the agent needs a human's approval, which MCP cannot give; ask otherwise"
            return {"ok": False, "error": {"type": "SecurityViolation", "message": message}}
        return {"ok": True, "answer": answer.text, "sources": answer.sources, "error": None}

    return ask


def mcp(
    http: Annotated[bool, typer.Option("--http", help="streamable HTTP instead of stdio")] = False,
    host: Annotated[str, typer.Option("--host", help="loopback address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8765,
    tool: Annotated[
        list[str] | None, typer.Option("--tool", help="serve only this tool (repeatable)")
    ] = None,
    ask: Annotated[bool, typer.Option("--ask", help="also serve the whole agent as 'ask'")] = False,
    model: Annotated[str | None, typer.Option("--model", "-m", help="model of 'ask'")] = None,
    include_gated: Annotated[
        bool, typer.Option("--include-gated", help="also serve tools that need approval")
    ] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="seconds per call")] = 120.0,
) -> None:
    """Serve autan's tools to MCP clients, with the same guards and audit log as the agent."""
    from autan.api import default_guards
    from autan.tools.mcp.client import require_mcp
    from autan.tools.mcp.server import build_server, served_tools
    from autan.tools.registry import ToolRegistry

    require_mcp()
    bind = _loopback(host) if http else host
    settings = settings_for()
    tools = served_tools(
        ToolRegistry.configured(settings, tool or None), include_gated or bool(tool)
    )
    server = build_server(tools, default_guards(settings), timeout, _ask(model) if ask else None)
    if http:
        import uvicorn

        app = server.streamable_http_app(host=bind)
        uvicorn.run(app, host=bind, port=port, log_level="warning")
        return
    import anyio
    from mcp.server.stdio import stdio_server

    async def serve() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(serve)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.command()(mcp)

"""``autan mcp``: autan's tools served over MCP (stdio or streamable HTTP), guards included.

Every call passes the same guarded runner as inside an agent (``autan.tools.guarded``): arguments
pass the rails of their declared kind and the capability policy, the result the ``tool_output``
rails, and each verdict reaches the audit log. There is no human on this path, so an
``escalate`` verdict refuses the call, and tools that need a human's approval are not served
unless the operator opts in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import anyio
from langchain_core.tools import BaseTool

from autan.guards.base import GuardRunner
from autan.tools.base import ToolResult, fail, tool_schema
from autan.tools.guarded import GuardedTools, deny
from autan.tools.provenance import Provenance
from autan.tools.spec import spec_of

Ask = Callable[[str], dict[str, Any]]
AUDIT_RUN = "mcp"  # audit lines of MCP calls go to <data dir>/audit/mcp.jsonl


def _guarded(tools: GuardedTools, tool: BaseTool, args: dict[str, Any]) -> ToolResult:
    """One call through the guarded runner; each MCP request is its own conversation."""
    facts = {"run_id": AUDIT_RUN}
    return tools.call(tool, args, Provenance(), ask=deny, facts=facts).result


async def guarded_call(
    tool: BaseTool, args: dict[str, Any], guards: GuardRunner, timeout_s: float
) -> ToolResult:
    """Run one call with its argument, capability and output checks, bounded by ``timeout_s``.

    On a timeout the client gets its answer at once; the worker thread ends with the tool
    (the sandbox's own limits stop runaway code).
    """
    runner = GuardedTools(guards)
    try:
        with anyio.fail_after(timeout_s):
            return await anyio.to_thread.run_sync(
                _guarded, runner, tool, args, abandon_on_cancel=True
            )
    except TimeoutError:
        return fail("BackendTimeout", f"{tool.name} did not finish within {timeout_s:g}s")


def served_tools(tools: Iterable[BaseTool], include_gated: bool) -> list[BaseTool]:
    """The tools to serve: those needing a human's approval only when the operator opts in."""
    return [t for t in tools if include_gated or not spec_of(t).requires_approval]


ASK_SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string", "description": "What to ask the agent."}},
    "required": ["question"],
}


def build_server(
    tools: list[BaseTool], guards: GuardRunner, timeout_s: float, ask: Ask | None = None
) -> Any:
    """An MCP server (the SDK's low-level ``Server``) for ``tools`` and, optionally, ``ask``."""
    import mcp_types as types
    from mcp.server import Server

    by_name = {t.name: t for t in tools}

    def listing() -> list[Any]:
        out = []
        for t in tools:
            schema = tool_schema(t)
            out.append(
                types.Tool(
                    name=t.name,
                    description=schema["description"] or t.name,
                    input_schema=schema["parameters"],
                )
            )
        if ask is not None:
            text = "Ask the autan agent a question; it answers with citations."
            out.append(types.Tool(name="ask", description=text, input_schema=ASK_SCHEMA))
        return out

    async def on_list_tools(ctx: Any, params: Any) -> Any:
        return types.ListToolsResult(tools=listing())

    async def on_call_tool(ctx: Any, params: Any) -> Any:
        args = dict(params.arguments or {})
        if ask is not None and params.name == "ask":
            result = await anyio.to_thread.run_sync(ask, str(args.get("question", "")))
        elif params.name in by_name:
            result = await guarded_call(by_name[params.name], args, guards, timeout_s)
        else:
            result = fail("NotFoundError", f"unknown tool {params.name!r}")
        text = json.dumps(result, ensure_ascii=False, default=str)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)],
            structured_content=json.loads(text),
            is_error=not result.get("ok"),
        )

    return Server(
        "autan",
        instructions="autan's tools: sandboxed code, cited document search, safe web fetch.",
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
    )

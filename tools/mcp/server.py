"""``autan mcp``: autan's tools served over MCP (stdio or streamable HTTP), guards included.

Every call passes the same checks as inside an agent: arguments that carry code or a command go
through the ``code`` rail, the result through the ``tool_output`` rails, and each verdict reaches
the audit log. There is no human on this path, so an ``escalate`` verdict refuses the call, and
tools that need a human's approval are not served unless the operator opts in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import anyio
from langchain_core.tools import BaseTool

from autan.config import Settings
from autan.guards.base import GuardRunner, Verdict
from autan.tools.base import ToolResult, arun_tool, fail, tool_schema
from autan.tools.registry import ToolRegistry
from autan.tools.spec import ArgKind, spec_of

Ask = Callable[[str], dict[str, Any]]
AUDIT_RUN = "mcp"  # audit lines of MCP calls go to <data dir>/audit/mcp.jsonl


def _refused(stage: str, verdict: Verdict) -> ToolResult:
    why = "; ".join(verdict.reasons) or "policy"
    return fail(
        "SecurityViolation", f"the {verdict.rail or 'guard'} rail refused this {stage} ({why})"
    )


def _screen_args(tool: BaseTool, args: dict[str, Any], guards: GuardRunner) -> ToolResult | None:
    """A refusal when an argument that carries code or a command does not pass the code rail."""
    spec = spec_of(tool)
    for name in spec.args_of(ArgKind.CODE) + spec.args_of(ArgKind.COMMAND):
        value = args.get(name)
        if isinstance(value, str):
            verdict = guards.check(value, "code", {"run_id": AUDIT_RUN, "tool": tool.name})
            if verdict.action in ("block", "escalate"):
                return _refused("call", verdict)
    return None


def _screen_result(tool: BaseTool, result: ToolResult, guards: GuardRunner) -> ToolResult:
    """The result after the tool-output rails: withheld when blocked, redacted in place."""
    from autan.graphs.nodes.guard_tool_output import guard_result

    cleaned, found = guard_result(guards, result, {"run_id": AUDIT_RUN, "tool": tool.name})
    for verdict in found:
        if verdict.action in ("block", "escalate"):
            return _refused("result", verdict)
    return dict(cleaned) if isinstance(cleaned, dict) else result


async def guarded_call(
    tool: BaseTool, args: dict[str, Any], guards: GuardRunner, timeout_s: float
) -> ToolResult:
    """Run one tool call with its argument and output rails, bounded by ``timeout_s``."""
    refused = await anyio.to_thread.run_sync(_screen_args, tool, args, guards)
    if refused is not None:
        return refused
    try:
        with anyio.fail_after(timeout_s):
            result = await arun_tool(tool, args)
    except TimeoutError:
        return fail("BackendTimeout", f"{tool.name} did not finish within {timeout_s:g}s")
    return await anyio.to_thread.run_sync(_screen_result, tool, result, guards)


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


def registry_for(settings: Settings, names: list[str] | None) -> ToolRegistry:
    """The tools ``autan mcp`` offers: the configured ones, or the ``names`` given."""
    return ToolRegistry.configured(settings, names)

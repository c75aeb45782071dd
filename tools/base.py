"""The tool contract: LangChain tools whose results are JSON objects with ``ok`` and ``error``.

Tools report failures as data so the planner can read and recover; ``run_tool`` is the one place
that turns whatever a tool returns or raises into ``{"ok": bool, ..., "error": null | {...}}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import ValidationError

from autan import tracing
from autan.errors import AutanError

ToolResult = dict[str, Any]


class ToolCatalog(Protocol):
    """What the planner and the tool runner need of a set of tools (``ToolRegistry`` is one)."""

    def get(self, name: str) -> BaseTool:
        """The tool called ``name``; ``NotFoundError`` naming close matches otherwise."""
        ...

    def names(self) -> list[str]:
        """Tool names in a stable order."""
        ...

    def __contains__(self, name: object) -> bool:
        """Whether a tool called ``name`` is in the catalog."""
        ...

    def __iter__(self) -> Iterator[BaseTool]:
        """The tools."""
        ...


def ok(**fields: Any) -> ToolResult:
    """A successful tool result."""
    return {"ok": True, **fields, "error": None}


def fail(error_type: str, message: str, **fields: Any) -> ToolResult:
    """A failed tool result the planner can read."""
    return {"ok": False, **fields, "error": {"type": error_type, "message": message}}


def from_error(exc: BaseException) -> ToolResult:
    """A failed tool result for an exception raised inside a tool."""
    if isinstance(exc, AutanError):
        return {"ok": False, "error": exc.to_dict()}
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "arguments"
        return fail("InvalidArguments", f"{where}: {first['msg']}")
    return fail(type(exc).__name__, str(exc) or type(exc).__name__)


def normalise(raw: Any) -> ToolResult:
    """Shape any tool's return value (dict, str, model, list) as a tool result."""
    if isinstance(raw, Mapping):
        result = dict(raw)
        result.setdefault("ok", result.get("error") is None)
        result.setdefault("error", None)
        return result
    if hasattr(raw, "model_dump"):
        return normalise(raw.model_dump())
    if isinstance(raw, str):
        return ok(output=raw)
    return ok(output=json.loads(json.dumps(raw, default=str)))


def _tool_span_attributes(tool: BaseTool, args: Mapping[str, Any]) -> dict[str, Any]:
    """GenAI ``execute_tool`` attributes; the arguments appear only as a hash."""
    return {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool.name,
        "gen_ai.tool.type": "function",
        "autan.tool.arguments.sha256": tracing.digest(dict(args)) if tracing.enabled() else None,
    }


def run_tool(tool: BaseTool, args: Mapping[str, Any]) -> ToolResult:
    """Run a tool synchronously; never raises for tool failures."""
    with tracing.span(f"execute_tool {tool.name}", _tool_span_attributes(tool, args)) as live:
        try:
            result = normalise(tool.invoke(dict(args)))
        except Exception as exc:  # noqa: BLE001 - every failure becomes data for the planner
            result = from_error(exc)
        tracing.record_result(live, result)
        return result


async def arun_tool(tool: BaseTool, args: Mapping[str, Any]) -> ToolResult:
    """Run a tool asynchronously; never raises for tool failures."""
    with tracing.span(f"execute_tool {tool.name}", _tool_span_attributes(tool, args)) as live:
        try:
            result = normalise(await tool.ainvoke(dict(args)))
        except Exception as exc:  # noqa: BLE001 - every failure becomes data for the planner
            result = from_error(exc)
        tracing.record_result(live, result)
        return result


def make_tool(
    func: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    coroutine: Callable[..., Any] | None = None,
) -> BaseTool:
    """A LangChain tool from a typed function whose Google-style docstring documents its args."""
    tool: BaseTool = StructuredTool.from_function(
        func=func,
        coroutine=coroutine,
        name=name or func.__name__,
        description=description,
        parse_docstring=True,
        error_on_invalid_docstring=False,
    )
    return tool


def tool_schema(tool: BaseTool) -> dict[str, Any]:
    """Name, description and JSON schema of a tool's arguments."""
    if isinstance(tool.args_schema, dict):  # a JSON schema as given (MCP tools)
        schema = dict(tool.args_schema)
        schema.pop("description", None)
    else:
        schema = tool.get_input_schema().model_json_schema()  # type: ignore[union-attr]
    schema.pop("title", None)
    return {"name": tool.name, "description": tool.description, "parameters": schema}

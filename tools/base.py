"""The tool contract: LangChain tools whose results are JSON objects with ``ok`` and ``error``.

Tools report failures as data so the planner can read and recover; ``run_output`` is the one
place that turns whatever a tool returns or raises into a typed ``ToolOutput`` labelled with who
could have written it, whose JSON is ``{"ok": bool, ..., "error": null | {...}}``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langgraph.errors import GraphBubbleUp
from pydantic import ValidationError

from autan import tracing
from autan.errors import AutanError
from autan.tools.spec import Trust, spec_of

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
        return fail(
            "InvalidArguments", f"{where}: {first['msg']} (fix the arguments to match the schema)"
        )
    return fail(type(exc).__name__, str(exc) or type(exc).__name__)


def error_text(exc: BaseException) -> str:
    """The tool message autan's runner writes for a failure: its result as one line of JSON."""
    return json.dumps(from_error(exc), ensure_ascii=False, default=str)


def _handled(exc: BaseException) -> str:
    """``handle_tool_error``: the failure a ``ToolException`` wraps, as autan reports it."""
    return error_text(exc.__cause__ if isinstance(exc, ToolException) and exc.__cause__ else exc)


def _as_result(text: str) -> ToolResult | None:
    """A tool result written as JSON text (a handled error), else None."""
    if not text.startswith('{"ok": '):
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) and "error" in value else None


def normalise(raw: Any) -> ToolResult:
    """Shape any tool's return value (dict, str, model, list) as a tool result."""
    if isinstance(raw, str) and (parsed := _as_result(raw)) is not None:
        return parsed
    if isinstance(raw, Mapping):
        result = dict(raw)
        result.setdefault("ok", result.get("error") is None)
        result.setdefault("error", None)
        return result
    if isinstance(raw, ToolOutput):
        return raw.to_dict()
    if hasattr(raw, "model_dump"):
        return normalise(raw.model_dump())
    if isinstance(raw, str):
        return ok(output=raw)
    return ok(output=json.loads(json.dumps(raw, default=str)))


_RANK = {Trust.UNTRUSTED: 0, Trust.TRUSTED: 1, Trust.USER: 2}


@dataclass(frozen=True)
class ToolOutput:
    """One call's result as the runner hands it on: typed, and labelled with its trust.

    ``trust`` says who could have written ``data``: the user's words, trusted tool output, or
    untrusted content (pages, files, documents a third party could have written). The model
    reads ``to_dict()``, the same JSON object every tool has always returned.
    """

    ok: bool
    data: Mapping[str, Any] = field(default_factory=dict)  # the tool's own fields
    error: Mapping[str, Any] | None = None  # {"type", "message"} when not ok
    trust: Trust = Trust.UNTRUSTED

    @classmethod
    def of(cls, raw: Any, trust: Trust = Trust.UNTRUSTED) -> ToolOutput:
        """Any tool return value, labelled ``trust`` (a ``ToolOutput`` may only lower it)."""
        if isinstance(raw, ToolOutput):
            lower = min(raw.trust, trust, key=_RANK.__getitem__)
            return raw if lower == raw.trust else cls(raw.ok, raw.data, raw.error, lower)
        result = normalise(raw)
        data = {k: v for k, v in result.items() if k not in ("ok", "error")}
        return cls(bool(result["ok"]), data, result["error"], trust)

    @property
    def citations(self) -> list[dict[str, Any]]:
        """The passages the result cites (retrieval tools), empty when none."""
        return list(self.data.get("citations") or [])

    def to_dict(self) -> ToolResult:
        """The result as the model reads it: ``{"ok", ...fields, "error"}``."""
        error = None if self.error is None else dict(self.error)
        return {"ok": self.ok, **self.data, "error": error}

    def to_json(self) -> str:
        """``to_dict()`` as the JSON text of a tool message."""
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str)


def _tool_span_attributes(tool: BaseTool, args: Mapping[str, Any]) -> dict[str, Any] | None:
    """GenAI ``execute_tool`` attributes (the arguments only as a hash); None when not tracing."""
    if not tracing.enabled():
        return None
    return {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool.name,
        "gen_ai.tool.type": "function",
        "autan.tool.arguments.sha256": tracing.digest(dict(args)),
    }


def run_output(tool: BaseTool, args: Mapping[str, Any]) -> ToolOutput:
    """Run a tool synchronously, labelled with its declared output trust; never raises."""
    with tracing.span(f"execute_tool {tool.name}", _tool_span_attributes(tool, args)) as live:
        try:
            raw = tool.invoke(dict(args))
        except Exception as exc:  # noqa: BLE001 - every failure becomes data for the planner
            raw = from_error(exc)
        out = ToolOutput.of(raw, spec_of(tool).output_trust)
        tracing.record_result(live, out.to_dict())
        return out


def run_tool(tool: BaseTool, args: Mapping[str, Any]) -> ToolResult:
    """Run a tool synchronously; its result as plain JSON data (``run_output(...).to_dict()``)."""
    return run_output(tool, args).to_dict()


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
    """A LangChain tool from a typed function whose Google-style docstring documents its args.

    Failures come back as the tool's message in any LangGraph graph (``ToolNode`` included),
    worded as autan's own runner words them, instead of raising out of the graph.
    """
    tool = StructuredTool.from_function(
        func=func,
        coroutine=coroutine,
        name=name or func.__name__,
        description=description,
        parse_docstring=True,
        error_on_invalid_docstring=False,
    )
    return report_errors(tool)


def report_errors(tool: StructuredTool) -> StructuredTool:
    """Make ``tool`` hand any failure to the model as autan's one-line error, never raise it."""
    if tool.func is not None:
        tool.func = _reporting(tool.func)
    if tool.coroutine is not None:
        tool.coroutine = _areporting(tool.coroutine)
    tool.handle_tool_error = _handled
    tool.handle_validation_error = _handled
    return tool


def _reraise(exc: Exception) -> NoReturn:
    """Graph control flow and tool exceptions as they are; any other failure as handled."""
    if isinstance(exc, ToolException | GraphBubbleUp):
        raise exc
    raise ToolException(str(exc)) from exc


def _reporting(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` raising a ``ToolException`` (which the tool handles) for any failure."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            _reraise(exc)

    return wrapper


def _areporting(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """The async twin of ``_reporting``."""

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await func(*args, **kwargs)
        except Exception as exc:
            _reraise(exc)

    return wrapper


def tool_schema(tool: BaseTool) -> dict[str, Any]:
    """Name, description and JSON schema of a tool's arguments."""
    if isinstance(tool.args_schema, dict):  # a JSON schema as given (MCP tools)
        schema = dict(tool.args_schema)
        schema.pop("description", None)
    else:
        schema = tool.get_input_schema().model_json_schema()  # type: ignore[union-attr]
    schema.pop("title", None)
    return {"name": tool.name, "description": tool.description, "parameters": schema}

"""AgentDojo's environment functions as autan tools, each with its declaration from dojo_effects.

The tools act on the environment a ``DojoSession`` holds, which the harness swaps per task, so one
agent graph serves every task of a suite. A tool returns AgentDojo's result as JSON-like data
(pydantic models dumped) as ``output``, so the structure fields each declares can be told apart
from free text, and records every call that reached the
environment: AgentDojo's trace-based checks read that list.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.tools import BaseTool

from autan.errors import ConfigError
from autan.evals.dojo_effects import DECLARATIONS, Declared
from autan.tools.base import ToolResult, fail, make_tool, ok
from autan.tools.spec import declare

if TYPE_CHECKING:
    from agentdojo.functions_runtime import Function, FunctionCall, FunctionsRuntime
    from agentdojo.task_suite.task_suite import TaskSuite


@dataclass
class DojoSession:
    """The environment the wrapped functions act on, and the calls that reached it."""

    env: Any = None
    trace: list[FunctionCall] = field(default_factory=list)

    def reset(self, env: Any) -> None:
        """Point the tools at ``env`` and forget the previous task's calls."""
        self.env = env
        self.trace = []


def _docstring(fn: Function) -> str:
    """A Google-style docstring: the summary line, then one line per parameter."""
    summary = fn.description.strip().splitlines()[0]
    lines = [summary, "", "Args:"]
    for name, info in fn.parameters.model_fields.items():
        lines.append(f"    {name}: {' '.join((info.description or name).split())}")
    return "\n".join(lines) if fn.parameters.model_fields else summary


def _signature(fn: Function) -> inspect.Signature:
    params = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=inspect.Parameter.empty if info.is_required() else info.default,
            annotation=info.annotation,
        )
        for name, info in fn.parameters.model_fields.items()
    ]
    return inspect.Signature(params, return_annotation=dict)


def plain(value: Any) -> Any:
    """AgentDojo's result as JSON-like data (models dumped), so its fields can be declared."""
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _result(value: Any, error: str | None) -> ToolResult:
    if error is not None:
        kind, _, message = error.partition(": ")
        return fail(kind or "ToolError", message or error)
    return ok(output=plain(value))


def wrap_function(
    fn: Function,
    session: DojoSession,
    runtime: FunctionsRuntime,
    declarations: Mapping[str, Declared] = DECLARATIONS,
) -> BaseTool:
    """One AgentDojo function as a declared autan tool acting on ``session``'s environment."""
    from agentdojo.functions_runtime import FunctionCall

    declared = declarations.get(fn.name)
    if declared is None:
        raise ConfigError(
            f"AgentDojo function {fn.name!r} has no declaration",
            hint="add a row for it to autan/evals/dojo_effects.py",
        )

    def call(**kwargs: Any) -> ToolResult:
        session.trace.append(FunctionCall(function=fn.name, args=dict(kwargs)))
        value, error = runtime.run_function(session.env, fn.name, kwargs)
        return _result(value, error)

    call.__name__ = fn.name
    call.__doc__ = _docstring(fn)
    call.__signature__ = _signature(fn)  # type: ignore[attr-defined]
    call.__annotations__ = {n: p.annotation for n, p in call.__signature__.parameters.items()}  # type: ignore[attr-defined]
    tool = make_tool(call, name=fn.name, description=fn.description.strip())
    return declare(
        tool,
        effect=declared.effect,
        output_trust=declared.trust,
        args=dict(declared.args),
        structure=declared.structure,
        public_read=declared.public_read,
    )


def suite_tools(
    suite: TaskSuite[Any],
    session: DojoSession,
    declarations: Mapping[str, Declared] = DECLARATIONS,
) -> list[BaseTool]:
    """Every function of ``suite`` as a tool bound to ``session``."""
    from agentdojo.functions_runtime import FunctionsRuntime

    runtime = FunctionsRuntime(suite.tools)
    return [wrap_function(fn, session, runtime, declarations) for fn in suite.tools]

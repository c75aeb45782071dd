"""Name → tool. Built-ins are imported lazily so listing one tool never loads another's deps."""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from langchain_core.tools import BaseTool

from autan.config import Settings
from autan.errors import NotFoundError
from autan.tools.base import ToolResult, run_tool, tool_schema
from autan.tools.resources import ToolResources

# name -> "module:factory"; a factory takes Settings (and, if it holds sessions or stores, the
# registry's ToolResources as ``resources``) and returns one tool.
BUILTINS: dict[str, str] = {
    "calculator": "autan.tools.builtin:make_calculator",
    "current_time": "autan.tools.builtin:make_current_time",
    "read_file": "autan.tools.workspace.read:make_read_file",
    "list_files": "autan.tools.workspace.files:make_list_files",
    "grep": "autan.tools.workspace.files:make_grep",
    "edit_file": "autan.tools.workspace.edits:make_edit_file",
    "write_file": "autan.tools.workspace.edits:make_write_file",
    "apply_diff": "autan.tools.workspace.edits:make_apply_diff",
    "git_status": "autan.tools.workspace.git:make_git_status",
    "git_diff": "autan.tools.workspace.git:make_git_diff",
    "search_docs": "autan.tools.retrieval:make_search_docs",
    "python": "autan.tools.sandbox.tool:make_python_tool",
    "run_command": "autan.tools.sandbox.tool:make_run_command_tool",
    "fetch_url": "autan.tools.web.tools:make_fetch_url",
    "web_search": "autan.tools.web.tools:make_web_search",
    "remember": "autan.tools.memory_tools:make_remember",
    "recall": "autan.tools.memory_tools:make_recall",
}


def _factory(target: str) -> Callable[..., BaseTool] | None:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return None  # that part of autan is not built into this install
        raise
    factory: Callable[..., BaseTool] = getattr(module, attr)
    return factory


def _build(factory: Callable[..., BaseTool], settings: Settings, held: ToolResources) -> BaseTool:
    if "resources" in inspect.signature(factory).parameters:
        return factory(settings, resources=held)
    return factory(settings)


class ToolRegistry:
    """The tools one agent may call, by name, and what they hold open (``resources``).

    ``close()`` (or ``with``) stops the sandbox sessions and releases the memory store the
    built-in tools opened; another registry never shares them.
    """

    def __init__(
        self, tools: Iterable[BaseTool] = (), resources: ToolResources | None = None
    ) -> None:
        self._tools: dict[str, BaseTool] = {}
        self.resources = resources
        for t in tools:
            self.add(t)

    @classmethod
    def builtin(
        cls,
        settings: Settings,
        names: Iterable[str] | None = None,
        resources: ToolResources | None = None,
    ) -> ToolRegistry:
        """The built-in tools (all, or the ``names`` given), configured by ``settings``."""
        wanted = list(BUILTINS) if names is None else list(names)
        held = resources or ToolResources(settings)
        registry = cls(resources=held)
        for name in wanted:
            if name not in BUILTINS:
                raise unknown_tool(name, BUILTINS)
            factory = _factory(BUILTINS[name])
            if factory is not None:
                registry.add(_build(factory, settings, held))
        return registry

    @classmethod
    def configured(cls, settings: Settings, names: Iterable[str] | None = None) -> ToolRegistry:
        """Built-ins, the user's own tools and MCP servers' tools (all, or the ``names`` given).

        A user tool or MCP server that fails to load is skipped with a warning when it was not
        asked for by name, and raises ``ConfigError`` when it was.
        """
        from autan.tools.configured import configured_tools

        held = ToolResources(settings)
        return cls(configured_tools(settings, None if names is None else list(names), held), held)

    def close(self) -> None:
        """Release what the tools hold open (sandbox sessions, the memory store)."""
        if self.resources is not None:
            self.resources.close()

    def __enter__(self) -> ToolRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, tool: BaseTool) -> None:
        """Register any LangChain tool under its own name."""
        self._tools[tool.name] = tool

    def get(self, name: str) -> BaseTool:
        """The tool called ``name``; a clear error naming close matches otherwise."""
        try:
            return self._tools[name]
        except KeyError:
            raise unknown_tool(name, self._tools) from None

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[BaseTool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        """Tool names in registration order."""
        return list(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        """Every tool's name, description and argument schema (``autan tool list --json``)."""
        return [tool_schema(t) for t in self._tools.values()]

    def run(self, name: str, args: dict[str, Any]) -> ToolResult:
        """Run one tool outside any agent."""
        return run_tool(self.get(name), args)


def unknown_tool(name: str, known: Iterable[str]) -> NotFoundError:
    """The error for an unknown tool name, suggesting close matches."""
    close = difflib.get_close_matches(name, list(known), n=3)
    hint = (
        f"did you mean {', '.join(close)}?" if close else "run 'autan tool list' to see the tools"
    )
    return NotFoundError(f"unknown tool {name!r}", hint=hint)

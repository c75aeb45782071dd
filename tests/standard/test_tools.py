"""LangChain's ``ToolsUnitTests`` and ``ToolsIntegrationTests`` for every built-in tool.

Each tool runs for real: a file in a workspace, an ingested document, the bubblewrap sandbox,
loopback servers for the web tools. Beside the suites, every example must succeed (``ok``) and
a failure must come back as autan's one-line error in a plain LangGraph ``ToolNode``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, ClassVar

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode

from autan.config import Settings, load_settings
from autan.memory.embeddings import HashingEmbedder
from autan.memory.ingest.pipeline import Ingestor
from autan.memory.vectorstore import open_store
from autan.tools.base import error_text, run_tool
from autan.tools.registry import BUILTINS, ToolRegistry
from autan.tools.web.testing import LoopbackServer, Reply

PAGE = b"<html><head><title>Tides</title></head><body><p>Tides follow the moon.</p></body></html>"
SEARX = {"results": [{"url": "https://example.org/t", "title": "Tides", "content": "Moon."}]}
EXAMPLES: dict[str, dict[str, Any]] = {
    "calculator": {"expression": "2 * (3 + 4)"},
    "current_time": {"timezone": "Europe/Paris"},
    "read_file": {"path": "notes.txt"},
    "list_files": {"pattern": "*.txt"},
    "grep": {"pattern": "tide"},
    "edit_file": {
        "path": "notes.txt",
        "old_string": "tide tables",
        "new_string": "tide charts",
        "dry_run": True,
    },
    "write_file": {"path": "out.txt", "content": "high tide at noon\n"},
    "apply_diff": {
        "diff": "--- a/notes.txt\n+++ b/notes.txt\n@@ -1 +1 @@\n-tide tables\n+tide charts\n",
        "dry_run": True,
    },
    "git_status": {},
    "git_diff": {},
    "search_docs": {"query": "tides and the moon", "k": 2},
    "python": {"code": "print(6 * 7)"},
    "run_command": {"command": "echo hello"},
    "fetch_url": {"url": "PAGE"},
    "web_search": {"query": "tides"},
    "remember": {"text": "The user prefers metric units"},
    "recall": {"query": "units"},
}


def _ingest(settings: Settings, workspace: Path) -> None:
    docs = workspace / "docs"
    docs.mkdir()
    (docs / "tides.md").write_text("# Tides\n\nTides follow the moon.\n", encoding="utf-8")
    store = open_store(settings)
    try:
        Ingestor(store, HashingEmbedder(), collection=settings.retrieval.collection).run([docs])
    finally:
        store.close()


Setup = Callable[[str], tuple[Settings, dict[str, Any]]]


@pytest.fixture
def world(workspace: Path) -> Iterator[Setup]:
    """``setup(name)``: settings under which that tool's example runs offline, and the example.

    Only what the tool needs is started: the web tools' loopback servers, search_docs' index.
    """
    with ExitStack() as stack:

        def setup(name: str) -> tuple[Settings, dict[str, Any]]:
            example, web = dict(EXAMPLES[name]), {}
            if name in ("fetch_url", "web_search"):
                page = stack.enter_context(LoopbackServer({"/tides": Reply(200, PAGE)}))
                searx = stack.enter_context(
                    LoopbackServer({"/search": Reply(200, json.dumps(SEARX).encode(), {})})
                )
                web = {"test_allow_loopback_ports": [page.port, searx.port]}
                web |= {"respect_robots": False, "per_host_rate_per_s": 0, "timeout_s": 5.0}
                web |= {"search_provider": "searxng", "searxng_url": searx.origin}
                example = {"url": f"{page.origin}/tides"} if name == "fetch_url" else example
            settings = load_settings(
                workspace=workspace,
                retrieval={"embedder": "hashing"},
                sandbox={"timeout_s": 10.0, "cpu_s": 5},
                web=web,
            )
            (workspace / "notes.txt").write_text("tide tables\n", encoding="utf-8")
            if name.startswith("git_") and not (workspace / ".git").exists():
                subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
            if name == "search_docs":
                _ingest(settings, workspace)
            return settings, example

        yield setup


class _Configured:
    """One built-in tool, configured by the ``world`` fixture."""

    name: ClassVar[str]
    _tool: BaseTool
    _example: dict[str, Any]

    @pytest.fixture(autouse=True)
    def _configure(self, world: Setup) -> None:
        settings, self._example = world(self.name)
        self._tool = ToolRegistry.builtin(settings, [self.name]).get(self.name)

    @property
    def tool_constructor(self) -> BaseTool:
        return self._tool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return self._example


SUITES: dict[str, type] = {}
for _name in EXAMPLES:  # TestCalculatorUnit, TestCalculatorIntegration, ...
    for _kind, _suite in (("Unit", ToolsUnitTests), ("Integration", ToolsIntegrationTests)):
        _cls_name = "Test" + _name.title().replace("_", "") + _kind
        SUITES[_cls_name] = type(_cls_name, (_Configured, _suite), {"name": _name})
        SUITES[_cls_name].__module__ = __name__
globals().update(SUITES)


def test_every_builtin_has_a_suite() -> None:
    covered = {cls.name for cls in SUITES.values()}  # type: ignore[attr-defined]
    assert covered == set(BUILTINS) == set(EXAMPLES) and len(SUITES) == 2 * len(BUILTINS)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_really_succeeds(name: str, world: Setup) -> None:
    settings, example = world(name)
    result = ToolRegistry.builtin(settings, [name]).run(name, example)
    assert result["ok"] is True, result["error"]
    assert result["error"] is None


def _tool_node_replies(tools: list[BaseTool], calls: list[dict[str, Any]]) -> list[ToolMessage]:
    graph = StateGraph(MessagesState)
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "tools")
    asked = AIMessage(content="", tool_calls=calls)
    out = graph.compile().invoke({"messages": [asked]})
    return [m for m in out["messages"] if isinstance(m, ToolMessage)]


def test_tool_errors_reach_the_model_in_a_plain_langgraph_tool_node(world: Setup) -> None:
    settings, _ = world("read_file")
    registry = ToolRegistry.builtin(settings, ["calculator", "read_file", "current_time"])
    bad = [
        ("calculator", {"expression": "__import__('os')"}),
        ("read_file", {"path": "../../etc/passwd"}),
        ("current_time", {"timezone": 42}),
    ]
    calls = [
        {"name": n, "args": a, "id": f"c{i}", "type": "tool_call"} for i, (n, a) in enumerate(bad)
    ]
    replies = _tool_node_replies(list(registry), calls)
    assert [r.status for r in replies] == ["error"] * len(bad)
    for reply, (name, args) in zip(replies, bad, strict=True):
        ours = run_tool(registry.get(name), args)
        assert ours["ok"] is False
        assert reply.content == json.dumps(ours, ensure_ascii=False)  # autan's runner's words
        assert "\n" not in str(reply.content)


def test_an_unexpected_exception_is_reported_not_raised() -> None:
    from autan.tools.base import make_tool

    def explode(n: int) -> int:
        """Fail on purpose.

        Args:
            n: Any number.
        """
        raise RuntimeError(f"disk {n} is on fire")

    tool = make_tool(explode)
    call = {"name": "explode", "args": {"n": 3}, "id": "x", "type": "tool_call"}
    (reply,) = _tool_node_replies([tool], [call])
    assert reply.status == "error"
    assert reply.content == error_text(RuntimeError("disk 3 is on fire"))
    assert run_tool(tool, {"n": 3})["error"] == {
        "type": "RuntimeError",
        "message": "disk 3 is on fire",
    }

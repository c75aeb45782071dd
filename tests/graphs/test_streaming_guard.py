"""Streamed answer tokens pass the output rails before the user sees them."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from autan import Agent, FunctionChatModel
from autan.guards.base import GuardRunner, Verdict


class RedactPassword:
    name = "test-redact"

    def check(self, text: str, stage: str, ctx: Any) -> Verdict:
        if "hunter2" in text:
            return Verdict(True, "redact", text.replace("hunter2", "[REDACTED]"), self.name)
        return Verdict.allow(text)


class BlockLaunchCodes:
    name = "test-block"

    def check(self, text: str, stage: str, ctx: Any) -> Verdict:
        if "launch code" in text:
            return Verdict(False, "block", text, self.name, ("launch codes",), 1.0)
        return Verdict.allow(text)


def _agent(settings: Any, answer: str, rail: Any) -> Agent:
    model = FunctionChatModel(func=lambda messages, tools: answer)
    return Agent(model, settings=settings, tools=[], guards=GuardRunner({"output": [rail]}))


def test_redacted_words_never_stream(settings: Any) -> None:
    agent = _agent(
        settings, "Sure. The admin password is hunter2. Anything else?", RedactPassword()
    )
    events = list(agent.stream("what is the password?"))
    streamed = "".join(e.data["text"] for e in events if e.kind == "token")
    answer = next(e.data for e in events if e.kind == "answer")
    assert "hunter2" not in streamed
    assert "[REDACTED]" in streamed and "Anything else?" in streamed
    assert answer["text"] == "Sure. The admin password is [REDACTED]. Anything else?"
    assert answer["streamed"] and not answer["revised"]


def test_a_blocked_sentence_stops_the_stream_and_the_answer_is_replaced(settings: Any) -> None:
    agent = _agent(settings, "Fine. The launch code is 0000. Bye.", BlockLaunchCodes())
    events = list(agent.stream("launch?"))
    streamed = "".join(e.data["text"] for e in events if e.kind == "token")
    answer = next(e.data for e in events if e.kind == "answer")
    assert "0000" not in streamed and "Bye" not in streamed
    assert "blocked by the test-block rail" in answer["text"]
    assert answer["revised"]


def test_plain_answers_stream_unchanged(settings: Any) -> None:
    agent = _agent(settings, "One. Two. Three.", RedactPassword())
    events = list(agent.stream("count"))
    assert "".join(e.data["text"] for e in events if e.kind == "token") == "One. Two. Three."


class RecordingRedact(RedactPassword):
    """Redacts like its parent and notes the thread each check ran on."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    def check(self, text: str, stage: str, ctx: Any) -> Verdict:
        self.threads.append(threading.get_ident())
        return super().check(text, stage, ctx)


def test_astream_streams_like_stream_with_the_rails_off_the_event_loop(settings: Any) -> None:
    rail = RecordingRedact()
    agent = _agent(settings, "Sure. The admin password is hunter2. Anything else?", rail)
    sync = [(e.kind, e.data) for e in agent.stream("what is the password?")]
    rail.threads.clear()

    async def collect() -> tuple[list[Any], int]:
        events = [(e.kind, e.data) async for e in agent.astream("what is the password?")]
        return events, threading.get_ident()

    events, loop_thread = asyncio.run(collect())
    assert events == sync
    assert rail.threads and loop_thread not in rail.threads

"""The asyncio face of Agent: aask, astream, aresume give what their sync twins give."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from autan.api import Agent, Event
from autan.config import load_settings
from autan.errors import UserInputError

GARDEN = "What is the area of a 12.5 m by 8 m garden and how much fence does it need?"


def test_aask_answers_like_ask_and_runs_concurrently() -> None:
    agent = Agent("scripted:builtin", settings=load_settings())

    async def both() -> list[Any]:
        return list(await asyncio.gather(agent.aask(GARDEN), agent.aask(GARDEN)))

    answers = asyncio.run(both())
    assert all("41.0 m of fence" in a.text for a in answers)
    assert answers[0].thread_id != answers[1].thread_id


def test_astream_yields_the_events_of_stream_in_order() -> None:
    agent = Agent("scripted:builtin", settings=load_settings())

    async def collect() -> list[Event]:
        return [e async for e in agent.astream(GARDEN, thread_id="a")]

    events = asyncio.run(collect())
    kinds = [e.kind for e in events]
    assert kinds.index("tool_call") < kinds.index("tool_result") < kinds.index("answer")
    assert kinds == [e.kind for e in agent.stream(GARDEN, thread_id="b")]


def test_aresume_continues_an_approval_and_errors_reach_the_caller() -> None:
    agent = Agent("scripted:builtin", settings=load_settings(requires_approval=["current_time"]))

    async def flow() -> Any:
        first = await agent.aask(GARDEN, thread_id="t")
        assert first.interrupted
        with pytest.raises(UserInputError):
            async for _ in agent.astream(None, thread_id="t", resume="perhaps"):
                pass
        return await agent.aresume("t", {"decision": "approve"})

    assert "41.0 m of fence" in asyncio.run(flow()).text

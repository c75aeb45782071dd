"""A real small model end to end: SmolLM2-135M (packaged GGUF) plans with constrained calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage

from autan import Agent
from autan.agents.models.mistral_local import LocalChatModel
from autan.agents.models.template_format import TemplateFormat
from autan.config import Settings
from autan.guards.base import passthrough_runner
from tests.support.smollm2 import smollm2_dir_fixture  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow


def _model(folder: Path, settings: Settings) -> LocalChatModel:
    settings.model.constrained = True
    settings.model.tool_choice = "once"
    settings.model.max_new_tokens = 48
    settings.planner.max_steps = 4
    return LocalChatModel.from_settings(str(folder), settings)


def test_smollm2_uses_its_chat_template_and_answers(smollm2_dir: Path, settings: Settings) -> None:
    model = LocalChatModel.from_settings(str(smollm2_dir), settings)
    assert isinstance(model.runtime.format, TemplateFormat)
    reply = model.invoke("What is the capital of France? Answer in one word.", max_new_tokens=12)
    assert isinstance(reply, AIMessage) and str(reply.content).strip()


def test_agent_run_with_constrained_calls_completes(smollm2_dir: Path, settings: Settings) -> None:
    agent = Agent(
        _model(smollm2_dir, settings),
        tools=["calculator", "current_time"],
        settings=settings,
        guards=passthrough_runner(),
    )
    answer = agent.ask("What is 12 times 7? Use the calculator.")
    state = agent.graph.get_state(agent.config(answer.thread_id)).values
    calls = [c for m in state["messages"] if isinstance(m, AIMessage) for c in m.tool_calls]
    assert calls, "tool_choice=once must make the first step a call"
    for call in calls:  # which tool it picks is the model's business; the call must be valid
        schema = agent.context.tools.get(call["name"]).get_input_schema()
        schema.model_validate(call["args"])
    assert all(not m.invalid_tool_calls for m in state["messages"] if isinstance(m, AIMessage))
    results = [json.loads(m.content) for m in state["messages"] if m.type == "tool"]
    assert len(results) >= len(calls) and all("ok" in r for r in results)
    assert answer.text.strip() and not answer.interrupted
    last = state["messages"][-1]
    assert isinstance(last, AIMessage) and not last.tool_calls
    assert last.response_metadata.get("finish_reason") not in {"step_budget", "repair_budget"}


def test_tool_choice_any_forces_a_call_without_a_call_token(
    smollm2_dir: Path, settings: Settings
) -> None:
    settings.model.constrained = False  # no grammar asked for: forcing must still hold
    settings.model.max_new_tokens = 48
    model = LocalChatModel.from_settings(str(smollm2_dir), settings)
    assert model.runtime.format.tool_call_token is None
    from autan.tools.registry import ToolRegistry

    tools = list(ToolRegistry.builtin(settings, ["calculator"]))
    question = "What is 12 times 7?"
    free = model.bind_tools(tools).invoke(question)
    forced = model.bind_tools(tools, tool_choice="any").invoke(question)
    assert isinstance(free, AIMessage) and isinstance(forced, AIMessage)
    assert not free.tool_calls, "unforced, this model answers in text"
    assert [c["name"] for c in forced.tool_calls] == ["calculator"]

"""The chat-template path (models without tool tokens) on a tiny random byte-level Llama."""

from __future__ import annotations

import jsonschema
import pytest
import torch
from langchain_core.messages import HumanMessage

from autan.agents.models.base import openai_tools
from autan.agents.models.mistral_local import LocalChatModel
from autan.agents.models.template_format import TemplateFormat
from autan.agents.models.tiny import tiny_chat_dir
from autan.config import Settings
from tests.agents.local_fixtures import one_torch_thread  # noqa: F401  (autouse)
from tests.agents.test_local_constrained import SCHEMAS, TOOLS


@pytest.fixture
def model(settings: Settings) -> LocalChatModel:
    settings.model.constrained = True
    settings.model.temperature = 1.0
    settings.model.max_new_tokens = 120
    return LocalChatModel.from_settings(str(tiny_chat_dir()), settings)


def _encode(model: LocalChatModel, text: str) -> list[int]:
    fmt = model.runtime.format
    assert isinstance(fmt, TemplateFormat)
    return list(fmt.tokenizer.encode(text, add_special_tokens=False))


def test_forced_constrained_calls_are_schema_valid(model: LocalChatModel) -> None:
    assert isinstance(model.runtime.format, TemplateFormat)
    bound = model.bind_tools(TOOLS, tool_choice="any", parallel_tool_calls=False)
    for seed in range(8):
        torch.manual_seed(seed)
        reply = bound.invoke("Use a tool.")
        assert reply.invalid_tool_calls == [] and len(reply.tool_calls) == 1, seed
        call = reply.tool_calls[0]
        jsonschema.validate(call["args"], SCHEMAS[call["name"]])


def test_json_written_as_text_is_read_as_a_call(model: LocalChatModel) -> None:
    plan = model._plan([HumanMessage("weather?")], None, {"tools": openai_tools(TOOLS)})
    eos = model.runtime.format.eos_ids[0]
    text = '{"name": "forecast", "arguments": {"city": "Oslo", "days": 2}}'
    reply = model.reply(plan, [*_encode(model, text), eos])
    assert reply.content == "" and reply.response_metadata["finish_reason"] == "tool_calls"
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("forecast", {"city": "Oslo", "days": 2})
    ]
    prose = model.reply(plan, [*_encode(model, "It is {sunny} today."), eos])
    assert prose.content == "It is {sunny} today." and not prose.tool_calls
    cut = model.reply(plan, _encode(model, text[:30]))
    assert not cut.tool_calls and "cut off" in str(cut.invalid_tool_calls[0]["error"])


def test_streamed_call_sends_no_json_as_text(model: LocalChatModel) -> None:
    torch.manual_seed(2)
    bound = model.bind_tools(TOOLS, tool_choice="any", parallel_tool_calls=False)
    chunks = list(bound.stream("Use a tool."))
    assert all(not c.content for c in chunks)
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    assert len(total.tool_calls) == 1 and not total.invalid_tool_calls
    jsonschema.validate(total.tool_calls[0]["args"], SCHEMAS[total.tool_calls[0]["name"]])

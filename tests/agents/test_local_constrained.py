"""Grammar-constrained decoding on random weights: every forced call must be schema-valid."""

from __future__ import annotations

from typing import Literal

import jsonschema
import pytest
import torch
from pydantic import Field

from autan.agents.models.base import openai_tools
from autan.agents.models.constrained import ConstrainedDecoder, lark_grammar
from autan.agents.models.mistral_local import LocalChatModel
from autan.agents.models.spec import load_model
from autan.agents.models.tiny import tiny_mistral_dir
from autan.config import Settings
from tests.agents.local_fixtures import one_torch_thread  # noqa: F401  (autouse)


def forecast(
    city: str = Field(max_length=16),
    days: int = Field(ge=1, le=14),
    unit: Literal["c", "f"] = "c",
) -> str:
    """Weather forecast.

    Args:
        city: City name.
        days: Days ahead.
        unit: Temperature unit.
    """
    return "sunny"


def convert(amount: float, currency: Literal["EUR", "USD", "JPY"], exact: bool) -> str:
    """Convert money.

    Args:
        amount: How much.
        currency: Target currency.
        exact: Whether to round.
    """
    return "ok"


TOOLS = [forecast, convert]
SCHEMAS = {t["function"]["name"]: t["function"]["parameters"] for t in openai_tools(TOOLS)}


@pytest.fixture
def model(settings: Settings) -> LocalChatModel:
    settings.model.constrained = True
    settings.model.temperature = 1.0
    settings.model.max_new_tokens = 160
    m = load_model(f"local:{tiny_mistral_dir()}", settings)
    assert isinstance(m, LocalChatModel)
    return m


def test_fifty_seeded_sampled_runs_all_yield_schema_valid_calls(model: LocalChatModel) -> None:
    bound = model.bind_tools(TOOLS, tool_choice="any", parallel_tool_calls=False)
    valid = 0
    for seed in range(50):
        torch.manual_seed(seed)
        reply = bound.invoke("Use a tool.")
        assert reply.invalid_tool_calls == [], (seed, reply.invalid_tool_calls)
        assert reply.tool_calls and reply.response_metadata["finish_reason"] == "tool_calls"
        for call in reply.tool_calls:
            jsonschema.validate(call["args"], SCHEMAS[call["name"]])
            valid += 1
    assert valid == 50


def test_several_calls_in_one_turn_are_each_valid(model: LocalChatModel) -> None:
    bound = model.bind_tools(TOOLS, tool_choice="any")
    for seed in range(2):
        torch.manual_seed(seed)
        reply = bound.invoke("Use tools.", max_new_tokens=300)
        assert reply.tool_calls
        for call in reply.tool_calls:
            jsonschema.validate(call["args"], SCHEMAS[call["name"]])
        cut = [c for c in reply.invalid_tool_calls if "cut off" in str(c.get("error"))]
        assert len(reply.invalid_tool_calls) == len(cut) <= 1


def test_unconstrained_random_weights_do_not_produce_valid_calls(model: LocalChatModel) -> None:
    loose = model.model_copy(update={"constrained": False})
    reply = loose.bind_tools(TOOLS, tool_choice="any").invoke("Use a tool.", max_new_tokens=24)
    assert reply.tool_calls == [] and reply.invalid_tool_calls


def test_auto_choice_gives_text_or_a_valid_call(model: LocalChatModel) -> None:
    bound = model.bind_tools(TOOLS)
    for seed in range(3):
        torch.manual_seed(seed)
        reply = bound.invoke("Hi", max_new_tokens=16)
        assert (
            reply.invalid_tool_calls == [] or reply.response_metadata["finish_reason"] == "length"
        )
        for call in reply.tool_calls:
            jsonschema.validate(call["args"], SCHEMAS[call["name"]])


def test_a_named_tool_choice_forces_that_tool(model: LocalChatModel) -> None:
    torch.manual_seed(1)
    reply = model.bind_tools(TOOLS, tool_choice="convert").invoke("Use a tool.")
    assert [c["name"] for c in reply.tool_calls] == ["convert"]


def test_grammars_are_compiled_once_per_tool_set(model: LocalChatModel) -> None:
    bound = model.bind_tools(TOOLS, tool_choice="any")
    for seed in range(2):
        torch.manual_seed(seed)
        bound.invoke("Use a tool.", max_new_tokens=80)
    decoder = model.runtime.extras["decoder"]
    assert isinstance(decoder, ConstrainedDecoder)
    before = decoder.cached_grammars
    bound.invoke("Use a tool.", max_new_tokens=80)
    assert decoder.cached_grammars == before


def test_streamed_constrained_call_matches_schema(model: LocalChatModel) -> None:
    torch.manual_seed(3)
    bound = model.bind_tools(TOOLS, tool_choice="any", parallel_tool_calls=False)
    chunks = list(bound.stream("Use a tool."))
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    assert total.tool_calls and not total.invalid_tool_calls
    for call in total.tool_calls:
        jsonschema.validate(call["args"], SCHEMAS[call["name"]])


def test_native_grammar_names_the_tool_calls_token() -> None:
    grammar = lark_grammar(openai_tools(TOOLS), 5, force_call=True)
    assert grammar.startswith("start: call\n") and "<[5]>" in grammar
    assert "text | call" in lark_grammar(openai_tools(TOOLS), None, force_call=False)

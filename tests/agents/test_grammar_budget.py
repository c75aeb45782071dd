"""Constrained calls within a token budget: every call closes in time, or a clear error says why."""

from __future__ import annotations

import jsonschema
import pytest
import torch
from pydantic import BaseModel, Field

from autan.agents.models.base import openai_tools
from autan.agents.models.grammar_budget import JsonCursor, Tiers, bounded, skeleton
from autan.agents.models.mistral_local import LocalChatModel
from autan.agents.models.spec import load_model
from autan.agents.models.tiny import tiny_mistral_dir
from autan.config import Settings
from autan.errors import BackendError, ModelOutputError
from tests.agents.local_fixtures import one_torch_thread  # noqa: F401  (autouse)


class Review(BaseModel):
    """A product review."""

    title: str = Field(description="Short title")
    body: str = Field(description="The review")
    tags: list[str] = Field(description="Keywords")
    stars: float = Field(description="Score")
    note: str | None = None


def calculator(expression: str) -> str:
    """Evaluate arithmetic.

    Args:
        expression: The expression.
    """
    return expression


SCHEMA = openai_tools([Review])[0]["function"]["parameters"]


@pytest.fixture
def model(settings: Settings) -> LocalChatModel:
    settings.model.constrained = True
    settings.model.temperature = 1.0
    m = load_model(f"local:{tiny_mistral_dir()}", settings)
    assert isinstance(m, LocalChatModel)
    return m


def test_free_strings_get_a_cap_and_required_ones_a_minimum() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "string", "maxLength": 4},
            "c": {"type": "string", "enum": ["x", "yy"]},
            "d": {"type": "string"},
            "e": {"type": "string", "minLength": 3},
        },
        "required": ["a", "c", "e"],
    }
    props = bounded(schema, 10)["properties"]
    assert props["a"] == {"type": "string", "maxLength": 10, "minLength": 1}
    assert props["b"] == {"type": "string", "maxLength": 4}
    assert props["c"] == {"type": "string", "enum": ["x", "yy"]}
    assert props["d"] == {"type": "string", "maxLength": 10}
    assert props["e"] == {"type": "string", "minLength": 3, "maxLength": 10}
    assert "maxLength" not in bounded(schema, None)["properties"]["a"]
    assert schema["properties"]["a"] == {"type": "string"}  # the caller's schema is untouched


def test_the_skeleton_is_the_shortest_value_with_every_property() -> None:
    assert skeleton(SCHEMA) == {"title": "x", "body": "x", "tags": ["x"], "stars": 0, "note": None}
    jsonschema.validate(skeleton(SCHEMA), SCHEMA)


def test_closing_tiers_never_open_anything() -> None:
    tiers = Tiers.of([b'"', b'"}}', b'",', b"}},{", b"]}", b", ", b',"', b"[", b""])
    assert tiers.quote.tolist() == [True, True] + [False] * 7
    assert tiers.close.tolist() == [False] * 4 + [True] + [False] * 4
    assert tiers.comma.tolist() == [False] * 5 + [True, True, False, False]


def test_the_cursor_knows_an_escaped_quote_from_a_closing_one() -> None:
    cursor = JsonCursor(armed=True)
    cursor.feed(b'{"a": "say \\"hi')
    assert cursor.started and cursor.in_string
    cursor.feed(b'\\""')
    assert not cursor.in_string
    prose = JsonCursor(armed=True)
    prose.feed(b"Hello {x}")
    assert not prose.started


@pytest.mark.parametrize("budget", [40, 64, 96])
def test_every_sampled_call_parses_and_fits_its_budget(model: LocalChatModel, budget: int) -> None:
    bound = model.bind_tools([Review], tool_choice="any")
    for seed in range(8):
        torch.manual_seed(seed)
        reply = bound.invoke("Review it.", max_new_tokens=budget)
        assert reply.response_metadata["finish_reason"] == "tool_calls", (seed, reply)
        assert reply.usage_metadata is not None
        assert reply.usage_metadata["output_tokens"] <= budget
        assert not reply.invalid_tool_calls
        for call in reply.tool_calls:
            jsonschema.validate(call["args"], SCHEMA)


def test_a_budget_too_small_for_any_call_raises_a_clear_error(model: LocalChatModel) -> None:
    torch.manual_seed(0)
    with pytest.raises(ModelOutputError, match="max_tokens=6") as caught:
        model.bind_tools([Review], tool_choice="any").invoke("Review it.", max_new_tokens=6)
    assert isinstance(caught.value, BackendError)
    assert caught.value.hint and "raise max_tokens" in caught.value.hint


def test_structured_output_raises_instead_of_returning_none(model: LocalChatModel) -> None:
    torch.manual_seed(0)
    with pytest.raises(ModelOutputError):
        model.with_structured_output(Review).invoke("Review it.", max_new_tokens=6)
    torch.manual_seed(0)
    review = model.with_structured_output(Review).invoke("Review it.", max_new_tokens=96)
    assert isinstance(review, Review)


def _accepts(model: LocalChatModel, text: str) -> bool:
    decoder = model._decoder()
    tools = openai_tools([calculator])
    matcher = decoder.processor(tools, force_call=True, max_calls=1, budget=64).matcher
    native = model.runtime.format.tool_call_token
    assert native is not None  # the tiny model writes Mistral's [TOOL_CALLS] [calls]
    tokens = [native, *decoder.tokenizer.tokenize_str(f" [{text}]")]
    return bool(matcher.validate_tokens(tokens) == len(tokens) and matcher.consume_tokens(tokens))


def test_the_grammar_refuses_an_empty_required_string(model: LocalChatModel) -> None:
    call = '{"name": "calculator", "arguments": {"expression": %s}}'
    assert _accepts(model, call % '"2+2"')
    assert not _accepts(model, call % '""')


def test_sampled_required_string_arguments_are_not_empty(model: LocalChatModel) -> None:
    bound = model.bind_tools([calculator], tool_choice="any", parallel_tool_calls=False)
    for seed in range(12):
        torch.manual_seed(seed)
        reply = bound.invoke("What is 2+2?", max_new_tokens=48)
        assert [c["name"] for c in reply.tool_calls] == ["calculator"]
        assert reply.tool_calls[0]["args"]["expression"] != ""

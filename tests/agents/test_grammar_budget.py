"""Constrained calls within a token budget: every call closes in time, or a clear error says why."""

from __future__ import annotations

import jsonschema
import pytest
import torch
from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel, Field

from autan.agents.models.base import openai_tools
from autan.agents.models.grammar_budget import (
    JsonCursor,
    Tiers,
    bounded,
    reserve_tokens,
    skeleton,
)
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
    settings.model.copy_bias = 0.0  # _decode reads a score of 0 as allowed, -inf as refused
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


CALL = '{"name": "calculator", "arguments": {"expression": %s}}'


def test_the_cursor_sees_a_call_list_repeat_itself() -> None:
    cursor = JsonCursor(armed=True)
    cursor.feed(("[" + CALL % '"2+2"' + ", " + CALL % '"}{ 2+2"').encode())
    assert cursor.calls and not cursor.repeated  # braces inside strings open nothing
    cursor.feed((", " + CALL % '"2+2"').encode())
    assert cursor.repeated and cursor.depth == 1
    lone = JsonCursor(armed=True)
    lone.feed((CALL % '"2+2"' + CALL % '"2+2"').encode())
    assert not lone.in_list and not lone.calls  # one call object holds no list of calls


def _decode(
    model: LocalChatModel, written: str, budget: int | None = None, strict: bool = True
) -> AIMessage:
    """A forced call to ``calculator`` that starts with ``written``, then follows the grammar.

    The tokens of ``written`` go through the plan's grammar processor as decoding would feed them
    (each must be allowed, unless not ``strict``: then the first refused one ends ``written``);
    from there the lowest allowed token is taken until the reply ends. ``budget`` defaults to
    just enough for the closer to start closing after ``written``.
    """
    decoder, fmt = model._decoder(), model.runtime.format
    tools = openai_tools([calculator])
    forced = [fmt.tool_call_token, *decoder.tokenizer.tokenize_str(" " + written)]
    if budget is None:
        count = decoder.tokenizer.tokenize_str
        budget = len(forced) + reserve_tokens(tools, lambda text: len(count(text)))
    kwargs = {"tools": tools, "tool_choice": "any", "max_new_tokens": budget}
    plan = model._plan([HumanMessage("What is 2+2?")], None, kwargs)
    (processor,) = plan.kwargs["logits_processor"]
    ids = list(plan.prompt)
    for step in range(budget):
        masked = processor(torch.tensor([ids]), torch.zeros(1, fmt.vocab_size))
        token = forced[step] if step < len(forced) else int(masked[0].argmax())
        if not strict and masked[0, token] != 0:
            forced, token = forced[:step], int(masked[0].argmax())
        assert masked[0, token] == 0, f"the grammar refused token {step}"
        ids.append(token)
        if token in fmt.eos_ids:
            break
    return model.reply(plan, ids[len(plan.prompt) :])


def test_a_repeated_call_closes_the_list_and_is_made_once(model: LocalChatModel) -> None:
    twice = "[" + CALL % '"2+2"' + ", " + CALL % '"2+2"'
    reply = _decode(model, twice, budget=200)
    assert [c["args"] for c in reply.tool_calls] == [{"expression": "2+2"}]
    assert reply.usage_metadata is not None
    assert reply.usage_metadata["output_tokens"] < 100  # closed at once, not at the budget


def test_a_call_the_budget_cuts_short_is_left_out(model: LocalChatModel) -> None:
    cut = "[" + CALL % '"2+2"' + ", " + '{"name": "calculator", "arguments": {"expression": "3'
    reply = _decode(model, cut)
    assert [c["args"] for c in reply.tool_calls] == [{"expression": "2+2"}]
    alone = _decode(model, '[{"name": "calculator", "arguments": {"expression": "3')
    assert [c["args"]["expression"][:1] for c in alone.tool_calls] == ["3"]  # nothing to keep


def test_a_looping_string_is_closed_at_once(model: LocalChatModel) -> None:
    looping = '[{"name": "calculator", "arguments": {"expression": "' + "1+" * 60
    reply = _decode(model, looping, budget=300, strict=False)
    (call,) = reply.tool_calls
    assert call["args"]["expression"].startswith("1+1+1+")
    assert len(call["args"]["expression"]) < 100  # closed soon after the loop began

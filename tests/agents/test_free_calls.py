"""Calls without a grammar: formats small models write, argument types, prefilled forced calls."""

from __future__ import annotations

import warnings

import pytest
import torch
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage

from autan.agents.models.arg_coercion import coerce, coerce_args
from autan.agents.models.base import openai_tools
from autan.agents.models.call_parsing import extract_calls, parse_calls, resolve_names
from autan.agents.models.call_stop import CallClosed
from autan.agents.models.mistral_local import LocalChatModel
from autan.agents.models.schema_types import normalise_schema
from autan.agents.models.template_format import TemplateFormat
from autan.agents.models.tiny import tiny_chat_dir
from autan.agents.models.tool_prompt import call_opener, describe_tools
from autan.config import Settings
from tests.agents.local_fixtures import one_torch_thread  # noqa: F401  (autouse)
from tests.agents.test_local_constrained import TOOLS

NAMES = frozenset({"forecast", "convert", "math_hypot"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"name": "forecast", "arguments": {"city": "Oslo"}}', [("forecast", {"city": "Oslo"})]),
        ('[forecast(city="Oslo", days=2)]', [("forecast", {"city": "Oslo", "days": 2})]),
        ("math.hypot(x=3, y=true)", [("math_hypot", {"x": 3, "y": True})]),
        ('<tool_call>{"name": "convert", "arguments": {}}</tool_call>', [("convert", {})]),
        (
            '```python\n[convert(amount=2.5), forecast(city="A")]\n```',
            [
                ("convert", {"amount": 2.5}),
                ("forecast", {"city": "A"}),
            ],
        ),
        ('[{"name": "forecast", "parameters": {"city": "B"}}]', [("forecast", {"city": "B"})]),
    ],
)
def test_common_call_formats_are_read(text: str, expected: list[tuple[str, dict]]) -> None:
    found = extract_calls(text, NAMES)
    assert [(c["name"], c["args"]) for c in found.tool_calls] == expected


def test_prose_unknown_names_and_positional_args_are_not_calls() -> None:
    for text in ("It will be sunny.", "print(x=1)", "forecast('Oslo')", "[delete_all(x=1)]"):
        assert extract_calls(text, NAMES).tool_calls == [], text
    said = 'Sure, calling it: forecast(city="Oslo") now.'
    assert extract_calls(said, NAMES).tool_calls == []
    assert [c["args"] for c in extract_calls(said, NAMES, search=True).tool_calls] == [
        {"city": "Oslo"}
    ]


def test_arguments_are_coerced_only_when_nothing_is_lost() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer"},
            "x": {"type": "number"},
            "flag": {"type": "boolean"},
            "name": {"type": "string"},
            "items": {"type": "array", "items": {"type": "integer"}},
        },
    }
    args = {"n": "3", "x": "2.5", "flag": "True", "name": 7, "items": '[1, "2"]', "other": "4"}
    assert coerce_args(args, schema) == {
        "n": 3,
        "x": 2.5,
        "flag": True,
        "name": "7",
        "items": [1, 2],
        "other": "4",
    }
    assert coerce("3.5", {"type": "integer"}) == "3.5"
    assert coerce(4.0, {"type": "integer"}) == 4
    assert coerce(True, {"type": "integer"}) is True
    assert coerce("maybe", {"type": "boolean"}) == "maybe"
    assert coerce("nan", {"type": "number"}) == "nan"


def test_a_float_parameter_gets_a_float_also_inside_a_list() -> None:
    schema = normalise_schema(
        {
            "type": "dict",
            "properties": {
                "x": {"type": "float"},
                "xs": {"type": "array", "items": {"type": "float"}},
                "n": {"type": "integer"},
            },
        }
    )
    args = coerce_args({"x": 3, "xs": [1, 2.5, "4"], "n": 2}, schema)
    assert args == {"x": 3.0, "xs": [1.0, 2.5, 4.0], "n": 2}
    assert [type(v) for v in args["xs"]] == [float, float, float] and type(args["x"]) is float
    assert coerce(True, schema["properties"]["x"]) is True  # a boolean is not a number here


@pytest.fixture
def free_model(settings: Settings) -> LocalChatModel:
    settings.model.constrained = False
    settings.model.force_calls = False
    settings.model.max_new_tokens = 8
    return LocalChatModel.from_settings(str(tiny_chat_dir()), settings)


def _ids(model: LocalChatModel, text: str) -> list[int]:
    fmt = model.runtime.format
    assert isinstance(fmt, TemplateFormat)
    return list(fmt.tokenizer.encode(text, add_special_tokens=False))


def test_forced_choice_without_a_grammar_starts_the_reply_as_a_call(
    free_model: LocalChatModel,
) -> None:
    kwargs = {"tools": openai_tools(TOOLS), "tool_choice": "any"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the opening forces the call: nothing to warn about
        plan = free_model._plan([HumanMessage("weather?")], None, kwargs)
    assert not plan.grammar and plan.kwargs["logits_processor"] == []
    fmt = free_model.runtime.format
    assert fmt.decode(plan.prefill) == '{"name": "' and plan.prompt[-len(plan.prefill) :] == (
        plan.prefill
    )
    written = _ids(free_model, 'Forecast", "arguments": {"city": "Oslo", "days": "2"}}')
    reply = free_model.reply(plan, plan.prefill + written)  # stopped where the call closed
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("forecast", {"city": "Oslo", "days": 2})
    ]
    assert reply.content == "" and reply.response_metadata["finish_reason"] == "tool_calls"
    assert reply.usage_metadata and reply.usage_metadata["output_tokens"] == len(written)


def test_a_named_tool_is_opened_with_its_name_and_the_model_writes_the_arguments(
    free_model: LocalChatModel,
) -> None:
    kwargs = {"tools": openai_tools(TOOLS), "tool_choice": "convert"}
    plan = free_model._plan([HumanMessage("2 euros in yen?")], None, kwargs)
    assert free_model.runtime.format.decode(plan.prefill) == ('{"name": "convert", "arguments": {')
    reply = free_model.invoke([HumanMessage("2 euros in yen?")], **kwargs)
    assert isinstance(reply, AIMessage) and not plan.grammar
    written = str(reply.tool_calls or reply.invalid_tool_calls)
    assert reply.tool_calls or reply.invalid_tool_calls, "a forced reply is read as a call"
    assert "convert" in written
    chunks = list(free_model.stream([HumanMessage("2 euros in yen?")], **kwargs))
    assert all(c.content == "" for c in chunks), "the opened call is never streamed as text"
    last = chunks[-1]
    assert isinstance(last, AIMessageChunk) and last.tool_call_chunks
    assert last.tool_call_chunks[0]["name"] == "convert"


def test_the_generation_stops_where_the_prefilled_call_closes(
    free_model: LocalChatModel,
) -> None:
    fmt = free_model.runtime.format
    plan = free_model._plan(
        [HumanMessage("weather?")], None, {"tools": openai_tools(TOOLS), "tool_choice": "any"}
    )
    start = len(plan.prompt) - len(plan.prefill)
    stop = CallClosed(fmt, start)
    open_ids = plan.prompt + _ids(free_model, 'forecast", "arguments": {"city": "}"')
    closed_ids = open_ids + _ids(free_model, "}} and then prose")
    assert not bool(stop(torch.tensor([open_ids]), torch.zeros(1))[0])
    assert bool(stop(torch.tensor([closed_ids]), torch.zeros(1))[0])


def test_forced_calls_use_the_grammar_by_default(settings: Settings) -> None:
    settings.model.constrained = False
    model = LocalChatModel.from_settings(str(tiny_chat_dir()), settings)
    kwargs = {"tools": openai_tools(TOOLS), "tool_choice": "any"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan = model._plan([HumanMessage("weather?")], None, kwargs)
    assert plan.grammar


def test_python_constants_in_json_and_near_miss_names_are_read() -> None:
    text = '{"name": "Math.Hypot", "arguments": {"x": 3, "y": True, "note": "False", "z": None}}'
    parsed = resolve_names(parse_calls(text), NAMES)
    assert [(c["name"], c["args"]) for c in parsed.tool_calls] == [
        ("math_hypot", {"x": 3, "y": True, "note": "False", "z": None})
    ]
    unknown = resolve_names(parse_calls('{"name": "weather", "arguments": {}}'), NAMES)
    assert unknown.tool_calls[0]["name"] == "weather"
    twins = resolve_names(
        parse_calls('{"name": "GetX", "arguments": {}}'), frozenset({"get_x", "getX"})
    )
    assert twins.tool_calls[0]["name"] == "GetX", "two tools match: the name is left as written"


def test_tools_are_described_as_signatures_with_a_neutral_call_shape() -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "book",
            "description": "Book a table.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "Where."},
                    "size": {"type": "integer", "default": 2},
                    "slot": {"type": "string", "enum": ["lunch", "dinner"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "where": {"type": "object", "properties": {"lat": {"type": "number"}}},
                },
                "required": ["city", "slot"],
            },
        },
    }
    text = describe_tools([tool])
    shape, listing = text.split("Tools:\n")
    assert "book" not in shape and '"<tool name>"' in shape
    assert listing.splitlines()[:3] == [
        'book(city: string, size: integer = 2, slot: "lunch" | "dinner", '
        "tags: array of string (optional), where: {lat: number} (optional))",
        "    Book a table.",
        "    city: Where.",
    ]
    assert call_opener([tool]) == '{"name": "book", "arguments": {'
    assert call_opener([tool, tool]) == '{"name": "'

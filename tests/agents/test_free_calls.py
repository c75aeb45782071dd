"""Calls without a grammar: the formats small models write, argument types, the unforced warning."""

from __future__ import annotations

import warnings

import pytest
from langchain_core.messages import HumanMessage

from autan.agents.models.arg_coercion import coerce, coerce_args
from autan.agents.models.base import openai_tools
from autan.agents.models.call_parsing import extract_calls
from autan.agents.models.mistral_local import MUST_CALL, LocalChatModel, UnforcedCallWarning
from autan.agents.models.template_format import TemplateFormat
from autan.agents.models.tiny import tiny_chat_dir
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


@pytest.fixture
def free_model(settings: Settings) -> LocalChatModel:
    settings.model.constrained = False
    settings.model.force_calls = False
    settings.model.max_new_tokens = 8
    return LocalChatModel.from_settings(str(tiny_chat_dir()), settings)


def test_unforceable_tool_choice_warns_once_and_asks_in_the_prompt(
    free_model: LocalChatModel,
) -> None:
    free_model.runtime.extras.pop("warned_unforced", None)
    kwargs = {"tools": openai_tools(TOOLS), "tool_choice": "any"}
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        plan = free_model._plan([HumanMessage("weather?")], None, kwargs)
        free_model._plan([HumanMessage("weather?")], None, kwargs)
    assert [w.category for w in seen] == [UnforcedCallWarning]
    assert "cannot force a call" in str(seen[0].message)
    assert not plan.grammar and plan.kwargs["logits_processor"] == []
    fmt = free_model.runtime.format
    assert isinstance(fmt, TemplateFormat)
    assert MUST_CALL in fmt.tokenizer.decode(plan.prompt)
    eos = fmt.eos_ids[0]
    text = 'Calling: [forecast(city="Oslo", days="2")]'
    ids = list(fmt.tokenizer.encode(text, add_special_tokens=False))
    reply = free_model.reply(plan, [*ids, eos])
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("forecast", {"city": "Oslo", "days": 2})
    ]


def test_forced_calls_use_the_grammar_by_default(settings: Settings) -> None:
    settings.model.constrained = False
    model = LocalChatModel.from_settings(str(tiny_chat_dir()), settings)
    kwargs = {"tools": openai_tools(TOOLS), "tool_choice": "any"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plan = model._plan([HumanMessage("weather?")], None, kwargs)
    assert plan.grammar

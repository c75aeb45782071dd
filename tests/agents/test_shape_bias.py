"""Constrained calls lean towards the shape the request's words suggest: where lists end, which
optional arguments are written, which flags are set."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from langchain_core.messages import HumanMessage

from autan.agents.models.call_text import CallText
from autan.agents.models.grammar_budget import JsonCursor
from autan.agents.models.shape_bias import CHOICE_WEIGHT, ShapeBias
from autan.config import Settings
from tests.agents.local_fixtures import (  # noqa: F401  (one_torch_thread: autouse)
    one_torch_thread,
    tiny_constrained_call,
)

PARAMS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {"type": "array", "items": {"type": "integer"}},
        "labels": {"type": "array", "items": {"type": "string"}},
        "bins": {"type": "integer"},
        "equal_variance": {"type": "boolean"},
        "full_text": {"type": "boolean"},
        "format": {"type": "string"},
        "where": {"type": "object", "properties": {"city": {"type": "string"}}},
        "place": {"type": "string", "description": "The city and state, e.g. Boston, MA"},
        "diet": {"type": "array", "items": {"type": "string", "enum": ["Vegan", "Gluten-free"]}},
        "bases": {"type": "array", "items": {"type": "string", "enum": ["A", "C", "G", "T"]}},
    },
    "required": ["bins"],
}
TOOLS = [{"type": "function", "function": {"name": "plot", "parameters": PARAMS}}]
CALL = '{"name": "plot", "arguments": {'


def _side(source: str, text: str, value: bytes | None = None, number: bool = False) -> str | None:
    return ShapeBias(source.encode(), TOOLS, {}, 2.0).side(CallText.of(CALL + text), value, number)


def test_frames_follow_partial_json_and_ignore_brackets_in_strings() -> None:
    stack = CallText.of('[{"name": "plot", "arguments": {"labels": ["a]}", "b\\"{"').stack
    assert [f.kind for f in stack] == ["[", "{", "{", "["]
    assert stack[1].strings == {"name": "plot"} and stack[1].key == "arguments"
    assert stack[2].keys == ["labels"]
    assert stack[3].start == len('[{"name": "plot", "arguments": {"labels": ["a]}",')


def test_a_number_list_goes_on_while_the_text_does_and_ends_where_it_ends() -> None:
    text = "Histogram of 85, 90, 88 and 91 with bins of 5."
    assert _side(text, '"data": [85, 90', b"90", number=True) == "more"
    assert _side(text, '"data": [85, 90, 88', b"88", number=True) == "more"  # "and 91"
    assert _side(text, '"data": [85, 90, 88, 91', b"91", number=True) == "close"
    assert _side(text, '"data": [85, 9', b"9", number=True) is None  # digits may go on
    assert _side(text, '"data": [17', b"17", number=True) is None  # not the text's


def test_a_number_list_ends_at_a_word_even_after_and() -> None:
    text = "Scores 85, 90, 91 and set the bins to 5"
    assert _side(text, '"data": [85, 90, 91', b"91", number=True) == "close"


def test_a_string_list_ends_after_an_aside_and_goes_on_after_one() -> None:
    text = "More G (Guanine) and C (Cytosine)."
    assert _side(text, '"labels": ["G"') == "more"
    assert _side(text, '"labels": ["G", "C"') == "close"


def test_a_quoted_list_goes_on_only_with_another_quoted_item() -> None:
    text = "Predictors 'Age', 'Income' and 'Education' and a target 'Amount'."
    assert _side(text, '"labels": ["Age"') == "more"
    assert _side(text, '"labels": ["Age", "Income", "Education"') == "close"


def test_inside_a_string_only_the_end_of_the_texts_list_is_favoured() -> None:
    text = "Compare Denver, Colorado and Austin."
    assert _side(text, '"labels": ["Austin', b"Austin") == '"close'
    assert _side(text, '"labels": ["Denver', b"Denver") is None  # "Denver, Colorado" goes on
    assert _side(text, '"format": "Denver', b"Denver") is None  # an argument's string: never


def test_after_an_argument_a_named_optional_one_is_favoured_else_the_close() -> None:
    assert _side("Bins of 5, assuming equal variance", '"bins": 5', b"5", True) == "more"
    assert _side("Bins of 5", '"bins": 5', b"5", number=True) == "close"
    assert _side("Bins of 50", '"bins": 5', b"5", number=True) is None  # 5 may become 50
    assert _side("Bins of 5", '"bins": 5, "format": "png"') == "close"


def test_an_argument_named_by_one_of_its_choices_is_named() -> None:
    assert _side("Bins of 5 for vegan food", '"bins": 5', b"5", number=True) == "more"
    assert _side("Bins of 5 for any food", '"bins": 5', b"5", number=True) == "close"


def test_a_name_or_number_of_the_text_not_yet_written_leaves_the_object_to_the_model() -> None:
    """ "in Lyon" may be an argument the tool has no word for; once written, the object ends."""
    assert _side("Bins of 5 in Lyon", '"bins": 5', b"5", number=True) is None
    assert _side("Bins of 5 in Lyon", '"format": "Lyon", "bins": 5', b"5", number=True) == "close"
    assert _side("Bins of 5 in 2,020 ways", '"bins": 5', b"5", number=True) is None
    assert _side("Bins of 5 in 2,020 ways", '"format": "2020", "bins": 5', b"5", True) == "close"
    assert _side("Plot it. Bins of 5", '"bins": 5', b"5", number=True) == "close"  # "Bins" opens


def _ending(source: str, text: str, value: bytes | None, number: bool = False) -> str | None:
    bias = ShapeBias(source.encode(), TOOLS, {}, 2.0)
    return bias.ending(CallText.of(CALL + text), value, number)


def test_a_string_or_list_argument_ends_the_way_its_object_goes() -> None:
    """ "png"} ends the string and the object in one token: the object's verdict picks the
    token."""
    named = "Bins of 5 as png, assuming equal variance"
    assert _ending(named, '"bins": 5, "format": "pn', b"pn") == '",'
    assert _ending("Bins of 5 as png", '"bins": 5, "format": "pn', b"pn") == '"}'
    assert _ending("Bins of 5 as png in Lyon", '"bins": 5, "format": "pn', b"pn") is None
    text = "Bins of 5 for 85, 90"
    assert _ending(text, '"bins": 5, "data": [85, 90', b"90", number=True) == "]}"
    assert _ending(text + " with equal variance", '"bins": 5, "data": [', None) == "],"
    assert _ending("Bins of 5 for a", '"bins": 5, "labels": ["a', b"a") == '"]}'
    assert _ending("In Lyon", '"bins": 5, "where": {"city": "Ly', b"Ly") is None  # none left
    assert _ending("Bins of 5", '"bins": 5', b"5", number=True) is None  # the close's own rule


def test_the_ending_bonus_moves_how_a_value_ends_not_whether_it_does() -> None:
    vocab = [b"", b"x", b'"', b'",', b'"}', b' "},', b"]", b"]}"]
    bias = ShapeBias(b"Bins of 5 as png", TOOLS, ShapeBias.masks_of(vocab), 1.5)
    scores = torch.tensor([[0.0, 3.0, 2.0, 2.5, 1.0, 0.5, float("-inf"), float("-inf")]])
    bias.apply(scores, CallText.of(CALL + '"bins": 5, "format": "png'), b"png", number=False)
    assert scores[0, 1] == 3.0  # the string going on is untouched
    assert float(scores[0, 2:6].max()) == 2.5  # so is the best ending
    assert scores[0, 4] > scores[0, 3] and scores[0, 5] > scores[0, 3]  # "} and "}, lead
    assert torch.isinf(scores[0, 6:]).all()  # what the grammar forbids stays forbidden


def test_nothing_is_favoured_where_no_argument_is_left() -> None:
    written = ", ".join(f'"{k}": 1' for k in PARAMS["properties"])
    assert _side("data labels bins equal variance full text format where", written) is None


def test_a_named_flag_leans_true_but_a_negated_one_does_not() -> None:
    assert _side("Bins of 5, assuming equal variance", '"equal_variance": ') == "true"
    assert _side("Bins of 5", '"equal_variance": ') is None
    assert _side("Bins of 5. Don't return the full text", '"full_text": ') is None
    assert _side("Bins of 5", '"bins": ') is None  # not a flag


def test_nested_objects_read_their_own_schema() -> None:
    assert _side("In Lyon, city centre", '"bins": 5, "where": {"city": "Lyon"') is None
    assert _side("In Lyon", '"bins": 5, "where": {"city": "Lyon", ') is None  # at a key


def test_outside_the_arguments_or_for_an_unknown_tool_nothing_is_favoured() -> None:
    bias = ShapeBias(b"Bins of 5", TOOLS, {}, 2.0)
    assert bias.side(CallText.of('{"name": "plo'), b"plo", number=False) is None
    assert (
        bias.side(CallText.of('{"name": "other", "arguments": {"bins": 5'), b"5", number=True)
        is None
    )
    assert (
        bias.side(CallText.of('[{"name": "plot", "arguments": {"bins": 5'), b"5", number=True)
        == "close"
    )


def test_the_bonus_lands_on_the_favoured_tokens_only() -> None:
    vocab = [b"", b",", b" ,", b"]", b"}", b"}]", b"5", b"true", b" t", b'"]', b'"']
    bias = ShapeBias(b"Bins of 5", TOOLS, ShapeBias.masks_of(vocab), 1.5)
    scores = torch.zeros(1, len(vocab))
    bias.apply(scores, CallText.of(CALL + '"bins": 5'), b"5", number=True)
    boosted = {vocab[i] for i in torch.nonzero(scores[0]).flatten().tolist()}
    assert boosted == {b"]", b"}", b"}]"} and float(scores.max()) == 1.5


def test_a_list_of_choices_holds_the_choices_the_text_names() -> None:
    assert _side("Vegan food, gluten free", '"diet": ["Vegan"') == "more"
    assert _side("Vegan food, gluten free", '"diet": ["Vegan", "Gluten-free"') == "close"
    assert _side("Vegan food", '"diet": ["Vegan"') == "close"  # not every choice the tool has
    assert _side("Vegan food", '"diet": ["Vegan', b"Vegan") == '"close'
    assert _side("Vegan food, gluten free", '"diet": ["Vegan', b"Vegan") == '"more'
    assert _side("Vegan food", '"diet": ["Veg', b"Veg") is None  # no whole choice yet
    assert _side("Vegan food", '"diet": ["Gluten-free", "Vegan"') == "close"  # all written
    assert _side("More G and C", '"bases": ["G"') == "more"  # "G" has no stem: copied items rule
    vocab = [b"", b",", b"]", b'"]', b'",']
    bias = ShapeBias(b"Vegan food", TOOLS, ShapeBias.masks_of(vocab), 1.0)
    scores = torch.zeros(1, len(vocab))
    bias.apply(scores, CallText.of(CALL + '"diet": ["Vegan"'), None, number=False)
    assert scores[0].tolist() == [0.0, 0.0, CHOICE_WEIGHT, 0.0, 0.0]


def test_a_place_goes_on_to_its_state_where_the_property_asks_for_one() -> None:
    text = "Vegan food in Los Angeles"
    assert _side(text, '"place": "Los Angeles', b"Los Angeles") == "more"  # the comma
    assert _side(text, '"place": "Los Ang', b"Los Ang") is None  # not a whole word yet
    assert _side(text, '"place": "Los Angeles, CA', b"Los Angeles, CA") is None
    assert _side(text, '"format": "Los Angeles', b"Los Angeles") is None  # no state asked


def test_the_cursor_keeps_the_calls_text() -> None:
    cursor = JsonCursor(armed=True)
    for piece in [" ", '{"name"', ': "plot"}']:
        cursor.feed(piece.encode())
    assert "".join(cursor.call.text) == '{"name": "plot"}'


def report(city: str, detailed: bool = False, archived: bool = False) -> str:
    """A report on a city.

    Args:
        city: The city.
        detailed: Whether the report is detailed.
        archived: Whether archived reports are included.
    """
    return city


@pytest.mark.parametrize("bonus", [0.0, 100.0])
def test_a_constrained_call_holds_what_the_request_names(settings: Settings, bonus: float) -> None:
    """On the tiny random model: with an overwhelming bonus, an unnamed flag is left out and a
    named one is set; without it the model writes the unnamed flag."""
    tool = tiny_constrained_call(settings, bonus, report)
    # no capitalised name: the random model does not copy it, and a name of the text not yet
    # written leaves the object's end to the model
    plain = tool.invoke([HumanMessage(content="report on lyon")]).tool_calls[0]["args"]
    named = tool.invoke([HumanMessage(content="a detailed report on lyon")]).tool_calls[0]["args"]
    if bonus:
        assert set(plain) == {"city"}, plain
        assert named.get("detailed") is True and "archived" not in named, named
    else:
        assert "archived" in plain, plain


def test_odd_schemas_favour_nothing_and_raise_nothing() -> None:
    odd = [
        {"function": {"name": "a", "parameters": {"type": "object", "properties": ["x"]}}},
        {"function": {"name": "b", "parameters": {"type": "object", "properties": {"x": True}}}},
    ]
    bias = ShapeBias(b"x is on, with x", odd, {}, 2.0)
    assert bias.side(CallText.of('{"name": "a", "arguments": {"x": 1'), b"1", number=True) is None
    assert bias.side(CallText.of('{"name": "b", "arguments": {"x": '), None, number=False) is None
    assert (
        bias.side(CallText.of('{"name": "b", "arguments": {"x": {"y": ['), None, number=False)
        is None
    )

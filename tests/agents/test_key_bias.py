"""At an argument's key, a constrained call leans towards the keys the request names."""

from __future__ import annotations

from typing import Any

import torch

from autan.agents.models.call_text import CallText
from autan.agents.models.copy_bias import token_table
from autan.agents.models.key_bias import KeyBias
from autan.agents.models.shape_bias import ShapeBias

PARAMS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "bins": {"type": "integer"},
        "equal_variance": {"type": "boolean"},
        "format": {"type": "string"},
        "size": {"type": "string", "enum": ["small", "large"]},
    },
    "required": ["bins"],
}
TOOLS = [{"type": "function", "function": {"name": "plot", "parameters": PARAMS}}]
CALL = '{"name": "plot", "arguments": {'
VOCAB = [b"", b'"', b' "', b'"eq', b' "equal', b"_variance", b'"form', b"at", b'"si', b"ze", b"x"]


def _keys(source: str, text: str, value: bytes | None = None) -> set[bytes]:
    bias = KeyBias(ShapeBias(source.encode(), TOOLS, {}, 2.0), token_table(VOCAB), 2.0)
    return {VOCAB[i] for i in bias.tokens(CallText.of(CALL + text), value)}


def test_before_a_key_the_tokens_that_open_a_named_one_are_favoured() -> None:
    named = "Bins of 5, assuming equal variance"
    assert _keys(named, '"bins": 5, ') == {b'"eq', b' "equal'}
    assert _keys(named, "") == {b'"eq', b' "equal'}  # the first key too
    assert _keys("Bins of 5, small ones", '"bins": 5, ') == {b'"si'}  # named by a choice


def test_inside_a_key_the_named_keys_rest_is_favoured() -> None:
    named = "Bins of 5, assuming equal variance"
    assert _keys(named, '"bins": 5, "equal', b"equal") == {b"_variance"}
    assert _keys(named, '"bins": 5, "equal_variance', b"equal_variance") == {b'"'}
    assert _keys(named, '"bins": 5, "form', b"form") == set()  # another key: no help


def test_nothing_is_favoured_at_a_value_or_when_no_key_left_is_named() -> None:
    named = "Bins of 5, assuming equal variance"
    assert _keys(named, '"bins": ') == set()
    assert _keys(named, '"bins": 5, "equal_variance": true, ') == set()  # written already
    assert _keys("Bins of 5", '"bins": 5, ') == set()


def test_the_bonus_lands_on_the_named_keys_tokens_only() -> None:
    shape = ShapeBias(b"Bins of 5, assuming equal variance", TOOLS, {}, 2.0)
    bias = KeyBias(shape, token_table(VOCAB), 1.5)
    scores = torch.zeros(1, len(VOCAB))
    bias.apply(scores, CallText.of(CALL + '"bins": 5, '), None)
    boosted = {VOCAB[i] for i in torch.nonzero(scores[0]).flatten().tolist()}
    assert boosted == {b'"eq', b' "equal'} and float(scores.max()) == 1.5

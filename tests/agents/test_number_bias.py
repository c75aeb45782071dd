"""Numbers the text writes in forms JSON does not are written in their JSON forms: a percentage
given for a rate as its fraction, "$10,000" and "8.5 million" with all their digits."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from langchain_core.messages import HumanMessage

from autan.agents.models.call_text import CallText
from autan.agents.models.number_bias import NumberBias, fraction, scaled
from autan.config import Settings
from tests.agents.local_fixtures import (  # noqa: F401  (one_torch_thread: autouse)
    one_torch_thread,
    tiny_constrained_call,
)

PARAMS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "principal": {"type": "integer", "description": "The amount invested."},
        "interest_rate": {"type": "number", "description": "The annual interest rate."},
        "yearly_yield": {"type": "number", "description": "The yield as a percentage."},
        "lightness": {"type": "integer", "description": "The lightness level."},
        "trait_shares": {"type": "array", "items": {"type": "number"}},
        "trait_values": {"type": "array", "items": {"type": "number"}},
        "label": {"type": "string"},
    },
}
TOOLS = [{"type": "function", "function": {"name": "grow", "parameters": PARAMS}}]
CALL = '{"name": "grow", "arguments": {'
VOCAB = [b"", b"0", b" 0", b"0.", b".", b"05", b"5", b" 5", b"1", b",", b"}", b" }"]


def _bias(source: str, bonus: float = 1.0) -> NumberBias:
    table = {text: [i] for i, text in enumerate(VOCAB) if text}
    ends = np.array([t[:1] in (b",", b"}") or t[:2] == b" }" for t in VOCAB], dtype=bool)
    return NumberBias(source.encode(), TOOLS, table, ends, bonus)


def _targets(source: str, text: str) -> list[bytes]:
    return _bias(source).targets(CallText.of(CALL + text))


def test_a_percentage_reads_as_the_fraction_json_writes() -> None:
    assert [fraction(d) for d in (b"5", b"40", b"12.5", b"150")] == [
        b"0.05",
        b"0.4",
        b"0.125",
        b"1.5",
    ]


def test_a_rate_named_near_a_percentage_takes_its_fraction() -> None:
    text = "Invest $5000 at an annual interest rate of 5% for 3 years."
    assert _targets(text, '"interest_rate": ') == [b"0.05"]
    assert _targets("A rate of 7 percent.", '"interest_rate": ') == [b"0.07"]
    assert _targets(text, '"principal": ') == []  # an integer keeps what the text says


def test_a_property_that_takes_percentages_keeps_them() -> None:
    text = "A yearly yield of 5% and a lightness of 60%."
    assert _targets(text, '"yearly_yield": ') == []  # its description says "percentage"
    assert _targets(text, '"lightness": ') == []  # an integer


def test_a_percentage_far_from_the_name_is_not_the_rates() -> None:
    far = "The interest is paid yearly, and this sentence runs on for a long while; 5% is a fee."
    assert _targets(far, '"interest_rate": ') == []
    assert _targets("Nothing in percent here, rate 5.", '"interest_rate": ') == []


def test_an_array_takes_the_fractions_whose_nearest_named_property_it_is() -> None:
    text = "Trait A has 40% of the shares and trait B shares 60%; trait A is valued at 0.8."
    assert _targets(text, '"trait_shares": [') == [b"0.4", b"0.6"]
    assert _targets(text, '"trait_shares": [0.4, ') == [b"0.4", b"0.6"]
    assert _targets(text, '"trait_values": [') == []  # "trait" is nearer "shares" for both


def test_the_bonus_lands_on_the_fraction_then_on_the_numbers_end() -> None:
    bias = _bias("An interest rate of 5% on $5000.", bonus=1.5)

    def boosted(text: str, value: bytes | None) -> set[bytes]:
        scores = torch.zeros(1, len(VOCAB))
        assert bias.apply(scores, CallText.of(CALL + text), value, number=value is not None)
        assert float(scores.max()) == 3.0  # twice the copy bias
        return {VOCAB[i] for i in torch.nonzero(scores[0]).flatten().tolist()}

    assert boosted('"interest_rate": ', None) == {b"0", b" 0", b"0."}  # not the copied "5"
    assert boosted('"interest_rate": 0.', b"0.") == {b"0", b"05"}
    assert boosted('"interest_rate": 0.05', b"0.05") == {b",", b"}", b" }"}
    scores = torch.zeros(1, len(VOCAB))
    assert not bias.apply(scores, CallText.of(CALL + '"principal": '), None, number=False)
    assert not bias.apply(scores, CallText.of(CALL + '"label": "5'), b"5", number=False)
    assert not scores.any()  # the copy bias decides those


def grow(principal: int, interest_rate: float) -> str:
    """Grow an investment.

    Args:
        principal: The amount invested.
        interest_rate: The annual interest rate.
    """
    return str(principal * interest_rate)


@pytest.mark.parametrize("bonus", [0.0, 100.0])
def test_a_constrained_call_writes_the_rate_as_a_fraction(settings: Settings, bonus: float) -> None:
    """On the tiny random model: with an overwhelming bonus the rate is 0.05; without it the
    model writes some other number."""
    tool = tiny_constrained_call(settings, bonus, grow)
    ask = "Grow $5000 at an interest rate of 5% a year."
    args = tool.invoke([HumanMessage(content=ask)]).tool_calls[0]["args"]
    assert (args.get("interest_rate") == 0.05) is bool(bonus), args


def test_numbers_with_separators_or_scale_words_read_as_json_writes_them() -> None:
    bias = _bias(
        "Income $2,000,000 of 213 million, 8.5 million km2; cash [200,300,400] over 10 years"
    )
    assert bias.spelled == [b"2000000", b"213000000", b"8500000"]  # not the bracketed list
    assert [scaled(b"1.267", b"billion"), scaled(b"0.25", b"thousand")] == [b"1267000000", b"250"]
    assert bias.spelled_targets(b"2") == [b"2000000", b"213000000"]
    assert bias.spelled_targets(b"213") == [b"213000000"]  # "213 million" is no whole 213
    assert bias.spelled_targets(b"10") == []  # "10 years": the copy may end there
    assert bias.spelled_targets(b"7") == []


def test_a_spelled_number_gets_its_zeros_and_its_end_with_the_copy_bias_left_on() -> None:
    bias = _bias("Income of $10,000 a year.", bonus=1.0)

    def boosted(value: bytes) -> dict[bytes, float]:
        scores = torch.zeros(1, len(VOCAB))
        call = CallText.of(CALL + '"principal": ' + value.decode())
        assert not bias.apply(scores, call, value, number=True)  # the copy bias stays on
        return {VOCAB[i]: float(scores[0, i]) for i in torch.nonzero(scores[0]).flatten().tolist()}

    assert boosted(b"1000") == {b"0": 5.0}
    assert boosted(b"10000") == {b",": 5.0, b"}": 5.0, b" }": 5.0}
    assert boosted(b"100000") == {}

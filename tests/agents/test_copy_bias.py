"""Constrained call values lean towards copying the conversation's words, and only its words."""

from __future__ import annotations

import pytest
import torch
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from autan.agents.models.call_text import CallText
from autan.agents.models.copy_bias import (
    MID_WORD_WEIGHT,
    SOURCE_LIMIT,
    CopyBias,
    source_text,
    token_table,
)
from autan.agents.models.grammar_budget import JsonCursor
from autan.agents.models.spec import load_model
from autan.agents.models.tiny import tiny_mistral_dir
from autan.config import Settings
from tests.agents.local_fixtures import (  # noqa: F401  (one_torch_thread: autouse)
    one_torch_thread,
    tiny_constrained_call,
)

VOCAB = [b"", b"Man", b"hattan", b"chester", b"Manchester", b" with", b"0", b"5", b"km", b"a"]
VOCAB += [b'"', b'";', b'"Man']
SOURCE = b"Find 5 places in Manhattan within 50km of John Doe with $10000"


def _boosted(value: bytes | None, number: bool = False) -> set[bytes]:
    bias = CopyBias(SOURCE, token_table(VOCAB), 2.0)
    return {VOCAB[i] for i in bias.tokens(value, number)}


def test_a_string_starts_with_the_start_of_a_word_of_the_conversation() -> None:
    first = _boosted(b"")
    assert b"Man" in first and b"5" in first
    assert b"Manchester" not in first and b"hattan" not in first  # not a word's start
    assert _boosted(None) == {b'"', b'"Man'}  # before it: a clean opening, not '";'


def test_inside_a_word_only_its_own_rest_is_boosted() -> None:
    assert _boosted(b"Man") == {b"hattan"}
    assert _boosted(b"Manhattan") == set()  # the word is whole; the next one is the model's
    assert b" with" not in _boosted(b"John Doe")


def test_a_number_continues_only_when_its_digits_are_not_yet_a_whole_number() -> None:
    assert _boosted(b"1000", number=True) == {b"0"}  # "$10000"
    assert _boosted(b"5", number=True) == set()  # "5 places" is whole, though "50km" goes on
    assert _boosted(b"-1", number=True) == set()


def test_the_bonus_lands_on_the_copying_tokens_only() -> None:
    bias = CopyBias(SOURCE, token_table(VOCAB), 2.5)
    scores = torch.zeros(1, len(VOCAB))
    bias.apply(scores, b"", number=False)
    assert scores[0, VOCAB.index(b"Man")] == 2.5 and scores[0, VOCAB.index(b"5")] == 2.5
    scores = torch.zeros(1, len(VOCAB))
    bias.apply(scores, b"Man", number=False)  # inside a word: three times the bonus
    assert scores[0, VOCAB.index(b"hattan")] == 2.5 * MID_WORD_WEIGHT
    assert float(scores.abs().sum()) == 2.5 * MID_WORD_WEIGHT
    bias.apply(scores, b"Manhattan", number=False)  # a whole word: nothing more moves
    assert float(scores.abs().sum()) == 2.5 * MID_WORD_WEIGHT


def test_a_value_that_is_already_a_whole_word_goes_on_with_the_plain_bonus() -> None:
    bias = CopyBias(b"Man of Manhattan", token_table(VOCAB), 2.0)
    scores = torch.zeros(1, len(VOCAB))
    bias.apply(scores, b"Man", number=False)  # "Man" may be whole, or the start of "Manhattan"
    assert scores[0, VOCAB.index(b"hattan")] == 2.0


def test_a_value_another_argument_holds_is_not_copied_again() -> None:
    bias = CopyBias(SOURCE, token_table(VOCAB), 2.0)
    scores = torch.zeros(1, len(VOCAB))
    bias.apply(scores, b"", number=False)
    bias.discourage(scores, b"", [b"Manhattan", b"km"])
    assert scores[0, VOCAB.index(b"Man")] == 0.0  # the copy bonus is taken back
    assert scores[0, VOCAB.index(b"5")] == 2.0  # other words still copy
    assert scores[0, VOCAB.index(b"km")] == -2.0
    scores = torch.zeros(1, len(VOCAB))
    bias.discourage(scores, b"Man", [b"Manhattan", b"Manchester"])
    assert {VOCAB[i] for i in torch.nonzero(scores[0]).flatten().tolist()} == {
        b"hattan",
        b"chester",
    }
    bias.discourage(scores, b"Manhattan", [b"Manhattan"])  # written whole: nothing to avoid
    assert float(scores.sum()) == -4.0


def test_the_siblings_are_the_objects_other_string_values_while_one_is_written() -> None:
    call = '{"name": "find", "arguments": {"artist": "David", "year": 1504, "title": "Da'
    assert CallText.of(call).siblings() == [b"David"]
    assert CallText.of(call[: call.index('"title"') + 3]).siblings() == []  # a key, no value
    assert (
        CallText.of('{"name": "find", "arguments": {"artist": "David", "tags": ["D').siblings()
        == []
    )


def test_the_source_is_what_the_user_and_the_tools_said() -> None:
    messages = [
        SystemMessage(content="You are terse"),
        HumanMessage(content="Weather in Lyon"),
        AIMessage(content="", tool_calls=[{"name": "geo", "args": {}, "id": "g"}]),
        ToolMessage(content="Lyon is in France", tool_call_id="g"),
    ]
    assert source_text(messages) == b"Weather in Lyon\nLyon is in France"
    long = [*messages, ToolMessage(content="x" * 100_000 + " newest", tool_call_id="g")]
    text = source_text(long)
    assert len(text) == SOURCE_LIMIT and text.endswith(b"newest")


def test_the_cursor_knows_the_value_being_written() -> None:
    cursor = JsonCursor(armed=True)
    seen = []
    for piece in ['{"city": "Ly', 'on", "days": 1', "2", "}"]:
        cursor.feed(piece.encode())
        seen.append((cursor.value, cursor.number))
    assert seen == [(b"Ly", False), (b"1", True), (b"12", True), (None, False)]


def get_weather(city: str) -> str:
    """The weather in a city.

    Args:
        city: The city.
    """
    return city


@pytest.mark.parametrize("bonus", [0.0, 100.0])
def test_a_constrained_value_copies_a_word_when_the_bias_is_strong(
    settings: Settings, bonus: float
) -> None:
    """On the tiny random model: an overwhelming bonus makes its first word one of the user's."""
    words = ["Weather", "in", "Reykjavik", "today"]
    ask = [HumanMessage(content=" ".join(words))]
    reply = tiny_constrained_call(settings, bonus, get_weather).invoke(ask)
    city = str(reply.tool_calls[0]["args"]["city"])
    copied = any(city == w or city.startswith(w + " ") for w in words)
    assert copied == bool(bonus), city


def find_sculpture(artist: str, title: str) -> str:
    """Find a sculpture.

    Args:
        artist: Who made it.
        title: What it is called.
    """
    return title


def test_a_constrained_call_does_not_copy_one_phrase_into_two_arguments(
    settings: Settings,
) -> None:
    """On the tiny random model with an overwhelming bonus and one word to copy: the first
    argument copies it, the second is not pushed to copy it again."""
    reply = tiny_constrained_call(settings, 100.0, find_sculpture).invoke(
        [HumanMessage(content="David")]
    )
    args = reply.tool_calls[0]["args"]
    first, second = (str(args.get(k, "")) for k in ("artist", "title"))
    assert first.startswith("David") and not second.startswith("David"), args


def test_prose_is_left_alone(settings: Settings) -> None:
    """Outside a call nothing is boosted: an overwhelming bonus changes no prose."""
    settings.model.constrained = True
    settings.model.max_new_tokens = 8
    replies = []
    for bonus in (0.0, 100.0):
        settings.model.copy_bias = bonus
        model = load_model(f"local:{tiny_mistral_dir()}", settings)
        ask = [HumanMessage(content='Say "Reykjavik" please')]
        replies.append(model.bind_tools([get_weather], tool_choice="auto").invoke(ask))
    assert not replies[0].tool_calls and replies[0].content
    assert replies[1].content == replies[0].content

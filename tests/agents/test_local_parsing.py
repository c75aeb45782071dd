"""Tool calls parsed from hand-written completions: valid, several, malformed, truncated."""

from __future__ import annotations

import pytest

from autan.agents.models.call_parsing import cut_off, loads_lenient, looks_like_call, parse_calls
from autan.agents.models.mistral_format import MistralFormat
from autan.agents.models.tiny import v3_tokenizer_file


@pytest.fixture(scope="module")
def fmt() -> MistralFormat:
    return MistralFormat(v3_tokenizer_file())


def _reply_ids(fmt: MistralFormat, text: str, call: str | None) -> list[int]:
    ids = fmt.inner.encode(text, bos=False, eos=False) if text else []
    if call is not None:
        ids += [fmt.tool_call_token or -1] + fmt.inner.encode(call, bos=False, eos=False)
    return ids


def test_valid_call_is_found_by_the_tool_calls_token(fmt: MistralFormat) -> None:
    ids = _reply_ids(fmt, "", '[{"name": "get_weather", "arguments": {"city": "Paris"}}]')
    text_ids, call_ids = fmt.split_call(ids)
    assert text_ids == [] and call_ids is not None
    parsed = parse_calls(fmt.decode(call_ids))
    assert [(c["name"], c["args"]) for c in parsed.tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert len(parsed.tool_calls[0]["id"]) == 9 and parsed.tool_calls[0]["id"].isalnum()
    assert parsed.invalid_tool_calls == []


def test_decoding_without_special_tokens_would_lose_the_call_marker(fmt: MistralFormat) -> None:
    ids = _reply_ids(fmt, "", '[{"name": "f", "arguments": {}}]')
    assert "[TOOL_CALLS]" not in fmt.decode(ids)
    assert fmt.split_call(ids)[1] is not None


def test_text_before_the_call_stays_content(fmt: MistralFormat) -> None:
    ids = _reply_ids(fmt, "Let me check.", '[{"name": "f", "arguments": {"x": 1}}]')
    text_ids, call_ids = fmt.split_call(ids)
    assert fmt.decode(text_ids) == "Let me check."
    assert parse_calls(fmt.decode(call_ids or [])).tool_calls[0]["args"] == {"x": 1}


def test_several_calls_in_one_turn_keep_order_and_given_ids() -> None:
    text = (
        '[{"name": "add", "arguments": {"a": 1, "b": 2}, "id": "abcdefghi"},'
        ' {"name": "add", "arguments": {"a": 3, "b": 4}}]'
    )
    calls = parse_calls(text).tool_calls
    assert [c["args"] for c in calls] == [{"a": 1, "b": 2}, {"a": 3, "b": 4}]
    assert calls[0]["id"] == "abcdefghi" and calls[1]["id"] != "abcdefghi"


@pytest.mark.parametrize(
    "text,args",
    [
        ('[{"name": "f", "arguments": {"q": "x",}},]', {"q": "x"}),  # trailing commas
        ('```json\n{"name": "f", "arguments": {"q": "x"}}\n```', {"q": "x"}),  # fenced
        ('{"name": "f", "arguments": "{\\"q\\": \\"x\\"}"}', {"q": "x"}),  # args as a string
        ('{"function": {"name": "f", "arguments": {"q": "x"}}}', {"q": "x"}),  # OpenAI shape
        ('<tool_call>{"name": "f", "parameters": {"q": "x"}}</tool_call>', {"q": "x"}),  # Hermes
        (
            '[{"name": "f", "arguments": {"q": "x"}}] I hope this helps',
            {"q": "x"},
        ),  # trailing prose
        ('[{"name": "f", "arguments": {"q": "unfinished', {"q": "unfinished"}),  # truncated
    ],
)
def test_malformed_json_is_repaired(text: str, args: dict[str, str]) -> None:
    parsed = parse_calls(text)
    assert [(c["name"], c["args"]) for c in parsed.tool_calls] == [("f", args)]


@pytest.mark.parametrize(
    "text,error",
    [
        ("get_weather(city='Paris')", "no JSON"),
        ('[{"arguments": {"q": 1}}]', "no name"),
        ('[{"name": "f", "arguments": [1, 2]}]', "must be an object"),
        ("[{'name': 'f'}]", "could not be repaired"),
    ],
)
def test_unrepairable_calls_become_invalid_calls_with_a_reason(text: str, error: str) -> None:
    parsed = parse_calls(text)
    assert parsed.tool_calls == []
    assert len(parsed.invalid_tool_calls) == 1 and error in parsed.invalid_tool_calls[0]["error"]


def test_good_and_bad_calls_in_one_turn_are_both_reported() -> None:
    parsed = parse_calls('[{"name": "f", "arguments": {}}, {"name": "g", "arguments": 3}]')
    assert [c["name"] for c in parsed.tool_calls] == ["f"]
    assert [c["name"] for c in parsed.invalid_tool_calls] == ["g"]


def test_a_call_cut_off_by_the_token_limit_is_invalid_not_guessed() -> None:
    text = ' [{"name": "f", "arguments": {"q": "a"}}, {"name": "g", "arguments": {"q": "trunc'
    parsed = cut_off(text, 64)
    assert [(c["name"], c["args"]) for c in parsed.tool_calls] == [("f", {"q": "a"})]
    assert parsed.invalid_tool_calls[0]["name"] == "g"
    assert "max_new_tokens=64" in parsed.invalid_tool_calls[0]["error"]


def test_prose_is_not_mistaken_for_a_call() -> None:
    assert not looks_like_call("The answer is 4.")
    assert looks_like_call(' {"name": "f"}') and looks_like_call("<tool_")
    assert loads_lenient('noise {"a": [1, 2') == {"a": [1, 2]}

"""Free (grammar-free) replies stop once they open with a complete call, and only then."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from langchain_core.messages import HumanMessage
from transformers import LogitsProcessor

from autan.agents.models.local_stopping import call_complete
from autan.agents.models.mistral_local import LocalChatModel
from autan.agents.models.tiny import tiny_chat_dir
from autan.config import Settings
from autan.errors import UserInputError
from tests.agents.local_fixtures import (
    counted_batches,
    one_torch_thread,  # noqa: F401  (autouse)
)
from tests.agents.test_local_constrained import TOOLS

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
CALL = '{"name": "forecast", "arguments": {"city": "Oslo", "days": 2}}'


@pytest.mark.parametrize(
    ("text", "complete"),
    [
        (CALL, False),  # another object may follow (read one by one when cut at the limit)
        (CALL + "\n", False),
        (CALL + ", {", False),
        (CALL + "\nThis asks", True),
        ("[" + CALL + "]", True),
        ('```json\n{"a": "x\\\\"}\n```', True),
        ('forecast(city="Oslo (NO)")', True),
        ('forecast(city="Oslo (NO)"', False),
        ('{"a": "}"', False),
        ("<tool_call>" + CALL + "</tool_call>", False),
        ("<tool_call>" + CALL + "</tool_call>\n<tool", False),
        ("<tool_call>" + CALL + "</tool_call>\nDone", True),
        ("The answer is (2)", False),
        ("Sure: " + CALL + "\nok", False),
    ],
)
def test_a_call_is_complete_when_nothing_after_it_can_extend_it(text: str, complete: bool) -> None:
    assert call_complete(text) is complete


class _Writes(LogitsProcessor):
    """Makes the model write ``ids``, then end its turn: the real generation loop, set output."""

    def __init__(self, prompt_len: int, ids: list[int], eos: int) -> None:
        self.prompt_len, self.ids, self.eos = prompt_len, ids, eos

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> Any:
        k = int(input_ids.shape[1]) - self.prompt_len
        forced = torch.full_like(scores, float("-inf"))
        forced[:, self.ids[k] if k < len(self.ids) else self.eos] = 0.0
        return forced


class _ScriptedLocal(LocalChatModel):
    script: str = ""

    def _shape(self, plan: Any, messages: Any, parallel: bool) -> None:
        super()._shape(plan, messages, parallel)
        fmt: Any = self.runtime.format
        ids = fmt.tokenizer.encode(self.script, add_special_tokens=False)
        plan.kwargs["logits_processor"].append(_Writes(len(plan.prompt), ids, fmt.eos_ids[0]))


def _free(settings: Settings, script: str) -> tuple[Any, int]:
    settings.model.constrained = settings.model.force_calls = False
    settings.model.max_new_tokens = 400
    model = _ScriptedLocal.from_settings(str(tiny_chat_dir()), settings)
    model = model.model_copy(update={"script": script})
    fmt: Any = model.runtime.format
    # auto: a forced call is prefilled and stops where its JSON closes (test_free_calls.py)
    return model.bind_tools(TOOLS, tool_choice="auto"), len(fmt.tokenizer.encode(script))


def test_a_complete_call_ends_the_reply_at_the_first_token_after_it(settings: Settings) -> None:
    ramble = "\nThis asks for the weather in Oslo for the next two days, as you wanted."
    bound, written = _free(settings, CALL + ramble)
    reply = bound.invoke("Weather in Oslo?")
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("forecast", {"city": "Oslo", "days": 2})
    ]
    assert reply.invalid_tool_calls == []
    assert reply.response_metadata["finish_reason"] == "tool_calls"
    call_tokens = written - len(ramble)  # one byte a token in the tiny model's vocabulary
    assert reply.usage_metadata["output_tokens"] == call_tokens + 2  # "\n" and "T"
    streamed = [c for c in bound.stream("Weather in Oslo?")]
    assert sum(streamed[1:], streamed[0]).tool_calls[0]["args"] == {"city": "Oslo", "days": 2}


def test_prose_before_a_call_and_tagged_calls_run_until_the_model_moves_on(
    settings: Settings,
) -> None:
    prose = "I will look that up for you now: " + CALL + "\nok"
    bound, written = _free(settings, prose)
    reply = bound.invoke("Weather in Oslo?")
    assert reply.usage_metadata["output_tokens"] == written + 1  # all of it, and end of turn
    assert reply.tool_calls == []  # unforced, a reply that opens with prose is prose
    tag = "<tool_call>" + CALL + "</tool_call>\n"
    bergen = tag.replace("Oslo", "Bergen")  # a second, different call
    bound, written = _free(settings, tag + bergen + "Both are on their way.")
    reply = bound.invoke("Weather in Oslo?")
    assert len(reply.tool_calls) == 2
    assert reply.usage_metadata["output_tokens"] == len(tag) + len(bergen) + 1


def test_batched_replies_read_as_single_replies(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Grammar-free conversations decoded together read as each does alone (fp32, greedy)."""
    from autan.agents.models.local_batch import replies

    settings.model.constrained = settings.model.force_calls = False
    settings.model.max_new_tokens = 12
    settings.model.dtype = "float32"
    model = LocalChatModel.from_settings(str(tiny_chat_dir()), settings)
    generate, calls = model.runtime.model.generate, []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["input_ids"].shape[0])
        return generate(*args, **kwargs)

    bound: Any = model.bind_tools(TOOLS, tool_choice="auto")
    asks = ["Weather in Oslo?", "Convert 3 euros to yen, please, exactly.", "Hi"]
    requests = [([HumanMessage(content=a)], dict(bound.kwargs)) for a in asks]
    requests.append(([HumanMessage(content="x")], {**bound.kwargs, "tool_choice": "nowhere"}))
    batches = counted_batches(monkeypatch)
    model.runtime.model.generate = counted
    try:
        together = replies(model, requests)
        alone = [bound.invoke(a) for a in asks]
    finally:
        model.runtime.model.generate = generate
    assert batches == [3] and calls == [1, 1, 1]  # one batch of the three, then each alone
    assert [(r.content, r.tool_calls) for r in together[:3]] == [
        (r.content, r.tool_calls) for r in alone
    ]
    assert [r.usage_metadata["output_tokens"] for r in together[:3]] == [12, 12, 12]
    assert isinstance(together[3], UserInputError)  # a refused conversation, in its place


def test_a_call_repeated_word_for_word_in_one_reply_is_made_once(settings: Settings) -> None:
    other = '{"name": "forecast", "arguments": {"city": "Bergen", "days": 2}}'
    bound, _ = _free(settings, f"[{CALL}, {CALL}, {other}, {CALL}]")
    reply = bound.invoke("Weather in Oslo and Bergen?")
    assert [c["args"]["city"] for c in reply.tool_calls] == ["Oslo", "Bergen"]


def test_a_call_caught_in_a_loop_ends_there() -> None:
    from autan.agents.models.local_stopping import LOOP_SPAN, Loop, loops

    line = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]  # one repeated line of a call
    assert loops(line * 5) and loops([7] * LOOP_SPAN + [7])
    assert not loops(list(range(200)))  # a long call that moves on is not a loop
    assert not loops([0, 1] * 12)  # twelve zeros in a list are not either (too short)
    assert not loops(line * 5 + [99])  # the newest token broke the pattern
    prompt = [5] * 100  # a repetitive prompt does not count: only the reply's tokens do
    rows = torch.tensor([prompt + line * 5, prompt + list(range(65))])
    assert Loop(len(prompt))(rows, torch.zeros(2, 1)).tolist() == [True, False]
    assert Loop(len(prompt))(torch.tensor([prompt + [5] * 10]), torch.zeros(1, 1)).tolist() == [
        False
    ]

"""Replies decoded together: each row keeps its own grammar, prefill and stops, as alone."""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
import pytest
from langchain_core.messages import HumanMessage

from autan.agents.models.local_batch import replies
from autan.agents.models.mistral_local import LocalChatModel
from autan.agents.models.tiny import tiny_chat_dir
from autan.config import Settings
from tests.agents.local_fixtures import counted_batches, one_torch_thread  # noqa: F401
from tests.agents.test_local_constrained import SCHEMAS, TOOLS, convert, forecast

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
ASKS = ["Weather in Oslo?", "Convert 3 euros to yen, please, exactly.", "Hi", "Oslo, 4 days"]
TOOL_SETS = [TOOLS, [convert], [forecast], TOOLS]


def _model(settings: Settings, constrained: bool) -> LocalChatModel:
    settings.model.constrained = settings.model.force_calls = constrained
    settings.model.max_new_tokens = 160
    settings.model.dtype = "float32"
    return LocalChatModel.from_settings(str(tiny_chat_dir()), settings)


def _requests(model: LocalChatModel, choice: str) -> list[tuple[list[Any], dict[str, Any]]]:
    bound = [model.bind_tools(tools, tool_choice=choice) for tools in TOOL_SETS]
    return [([HumanMessage(content=a)], dict(b.kwargs)) for a, b in zip(ASKS, bound, strict=True)]  # type: ignore[attr-defined]


def _alone(model: LocalChatModel, choice: str) -> list[Any]:
    pairs = zip(ASKS, TOOL_SETS, strict=True)
    return [model.bind_tools(t, tool_choice=choice).invoke(a) for a, t in pairs]


def _said(reply: Any) -> tuple[str, list[tuple[str, Any]]]:
    return reply.content, [(c["name"], c["args"]) for c in reply.tool_calls]


def test_batched_constrained_rows_each_satisfy_their_own_grammar(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, calls = _model(settings, constrained=True), counted_batches(monkeypatch)
    together = replies(model, _requests(model, "any"))
    assert calls == [len(ASKS)]  # one generation for every row
    for reply, tools in zip(together, TOOL_SETS, strict=True):
        assert not isinstance(reply, Exception)
        offered = {t.__name__ for t in tools}
        assert reply.tool_calls, reply
        for call in reply.tool_calls:
            assert call["name"] in offered  # only this row's tools, never another row's
            jsonschema.validate(call["args"], SCHEMAS[call["name"]])


def test_batched_constrained_and_prefilled_rows_read_as_lone_replies(settings: Settings) -> None:
    """Greedy fp32: a row decoded with others gives the reply it gives alone."""
    for constrained in (True, False):  # the grammar, or a forced call's prefilled opening
        model = _model(settings, constrained)
        together = replies(model, _requests(model, "any"))
        alone = _alone(model, "any")
        assert [_said(r) for r in together] == [_said(r) for r in alone]


def test_a_grammar_row_that_writes_text_stops_there_only_when_asked(settings: Settings) -> None:
    model = _model(settings, constrained=True)
    whole = replies(model, _requests(model, "auto"))
    cut = replies(model, _requests(model, "auto"), stop_at_prose=True)
    prose = [i for i, r in enumerate(whole) if not r.tool_calls]  # type: ignore[union-attr]
    assert prose  # random weights: some rows answer in text
    for i, (w, c) in enumerate(zip(whole, cut, strict=True)):
        assert _said(c)[1] == _said(w)[1]
        if i in prose:
            assert str(w.content).startswith(str(c.content).strip())  # type: ignore[union-attr]
            assert c.usage_metadata["output_tokens"] < w.usage_metadata["output_tokens"]  # type: ignore[union-attr]


def test_a_row_that_ends_leaves_the_batch(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Later steps run only the rows still going: the forward passes' batch shrinks."""
    model = _model(settings, constrained=True)  # each call ends where its grammar completes
    widths: list[int] = []
    forward = model.runtime.model.forward

    @functools.wraps(forward)
    def counted(*args: Any, **kwargs: Any) -> Any:
        widths.append(kwargs["input_ids"].shape[0])
        return forward(*args, **kwargs)

    monkeypatch.setattr(model.runtime.model, "forward", counted)
    said = replies(model, _requests(model, "any"))
    lengths = sorted(r.usage_metadata["output_tokens"] for r in said)  # type: ignore[union-attr]
    assert lengths[0] < lengths[-1]  # the rows end at different steps
    assert widths[0] == len(ASKS) and widths == sorted(widths, reverse=True)
    assert widths[-1] < len(ASKS)

"""The planner's context budget drops whole old turns and never orphans a tool result."""

from __future__ import annotations

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from autan.agents.planner import approx_tokens, fit_context


def _turn(n: int, size: int) -> list[BaseMessage]:
    call = {"name": "calculator", "args": {"expression": "1+1"}, "id": f"c{n}"}
    return [
        HumanMessage(content=f"question {n} " + "x" * size, id=f"h{n}"),
        AIMessage(content="", tool_calls=[call], id=f"a{n}"),
        ToolMessage(content='{"ok": true}', tool_call_id=f"c{n}", name="calculator", id=f"t{n}"),
        AIMessage(content=f"answer {n}", id=f"f{n}"),
    ]


def test_history_that_fits_is_kept_whole() -> None:
    history = [SystemMessage(content="rules", id="s"), *_turn(1, 10), *_turn(2, 10)]
    assert fit_context(history, 10_000) == history


def test_oldest_whole_turns_go_first_and_tool_pairs_stay_together() -> None:
    system = SystemMessage(content="rules", id="s")
    history = [system, *_turn(1, 400), *_turn(2, 400), *_turn(3, 40)]
    budget = approx_tokens([system, *_turn(2, 400), *_turn(3, 40)])
    kept = fit_context(history, budget)
    assert kept[0] is system
    assert [m.id for m in kept[1:]] == [m.id for m in _turn(2, 400) + _turn(3, 40)]
    calls = {c["id"] for m in kept if isinstance(m, AIMessage) for c in m.tool_calls}
    results = {m.tool_call_id for m in kept if isinstance(m, ToolMessage)}
    assert calls == results


def test_the_latest_turn_is_kept_even_when_it_alone_is_over_budget() -> None:
    history = [*_turn(1, 40), *_turn(2, 4000)]
    assert [m.id for m in fit_context(history, 10)] == ["h2", "a2", "t2", "f2"]

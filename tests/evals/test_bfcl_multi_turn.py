"""BFCL's multi-turn categories: conversations on BFCL's simulators, judged by BFCL's checker."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from autan import FunctionChatModel
from autan.agents.tool_eval import MULTI_TURN, Case, chunks, evaluate, load_cases
from autan.cli.app import main

pytest.importorskip("bfcl_eval")


def _parse(text: str, case: Case) -> tuple[str, dict[str, Any]]:
    """A ground-truth call (``cd(folder='x')``, ``sort('a.pdf')``) as a name and its arguments."""
    from bfcl_eval.constants.executable_backend_config import CLASS_FILE_PATH_MAPPING

    node = ast.parse(text, mode="eval").body
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    name = node.func.id
    args = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
    assert case.entry is not None
    for cls in case.entry["involved_classes"]:
        simulator = getattr(importlib.import_module(CLASS_FILE_PATH_MAPPING[cls]), cls)
        if node.args and hasattr(simulator, name):
            names = [p for p in inspect.signature(getattr(simulator, name)).parameters][1:]
            args.update({p: ast.literal_eval(a) for p, a in zip(names, node.args, strict=False)})
    return name, args


def _turn(messages: list[BaseMessage]) -> int:
    return sum(isinstance(m, HumanMessage) for m in messages) - 1


def _replay(case: Case, drop_last: bool = False) -> FunctionChatModel:
    """Makes each turn's ground-truth calls in one step, then says it is done."""
    assert case.answer is not None

    def plan(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        if isinstance(messages[-1], ToolMessage):
            return AIMessage(content="Done.")
        truth = list(case.answer[_turn(messages)])  # type: ignore[index]
        if drop_last and _turn(messages) == 0:
            truth = truth[:-1]
        calls = [_parse(t, case) for t in truth]
        if not calls:
            return AIMessage(content="I cannot do that with these functions.")
        made = [{"name": n, "args": a, "id": f"c{i}"} for i, (n, a) in enumerate(calls)]
        return AIMessage(content="", tool_calls=made)

    return FunctionChatModel(func=plan)


@pytest.mark.parametrize("category", list(MULTI_TURN))
def test_the_ground_truth_played_back_passes_bfcls_checker(category: str) -> None:
    cases = load_cases(category, 4)
    for case in cases:
        score = evaluate(_replay(case), [case], "free")
        assert score.correct == 1, score.failures


def test_a_missing_call_fails_on_the_simulators_state() -> None:
    case = load_cases("multi_turn_base", 1)[0]  # turn 0: cd, mkdir, mv
    score = evaluate(_replay(case, drop_last=True), [case], "free")
    assert score.correct == 0
    assert "state" in score.failures[0]["why"]


def test_a_model_that_only_talks_fails_at_its_first_turn() -> None:
    quiet = FunctionChatModel(func=lambda m, t: AIMessage(content="Use the ls command."))
    score = evaluate(quiet, load_cases("multi_turn_base", 2), "free")
    assert (score.total, score.correct) == (2, 0)
    assert "empty_turn" in score.failures[0]["why"]


def test_results_of_calls_come_back_and_a_turn_ends_after_twenty_steps() -> None:
    case = load_cases("multi_turn_base", 1)[0]
    seen: list[list[BaseMessage]] = []

    def pwd_forever(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        seen.append(messages)
        return AIMessage(content="", tool_calls=[{"name": "pwd", "args": {}, "id": "p"}])

    score = evaluate(FunctionChatModel(func=pwd_forever), [case], "free")
    assert score.correct == 0 and "ran past 20 steps" in score.failures[0]["why"]
    assert len(seen) == 21  # BFCL's limit: the 21st step of calls forces the quit
    result = seen[1][-1]
    assert isinstance(result, ToolMessage) and "workspace" in str(result.content)


def test_held_back_functions_are_offered_at_their_turn_with_bfcls_message() -> None:
    case = load_cases("multi_turn_miss_func", 1)[0]
    assert case.entry is not None
    ((turn, held),) = case.entry["missed_function"].items()
    offered: list[set[str]] = []
    asked: list[str] = []

    def note(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        offered.append({t["function"]["name"] for t in tools})
        asked.append(str(messages[-1].content))
        return AIMessage(content="ok")

    evaluate(FunctionChatModel(func=note), [case], "free")
    assert not set(held) & offered[0]
    assert set(held) <= offered[int(turn)]
    assert "more functions" in asked[int(turn)]
    assert evaluate(_replay(case), [case], "free").correct == 1


def test_a_case_played_twice_starts_from_bfcls_state_each_time() -> None:
    """The simulators live in BFCL's executor between calls; each run must start afresh."""
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils

    case = load_cases("multi_turn_base", 1)[0]
    for _ in range(2):  # the second run would find 'temp' made and the file moved
        assert evaluate(_replay(case), [case], "free").correct == 1
    assert not [n for n in vars(multi_turn_utils) if n.startswith("autan_")]


@pytest.mark.parametrize(
    ("name", "args", "said"),
    [
        ("__import__", {"name": "os"}, "no function named '__import__'"),
        ("pwd", {"x=__import__('pathlib').Path('{flag}').touch(),y": 1}, "not an argument name"),
        ("cd", {"folder": "'),__import__('pathlib').Path('{flag}').touch(),('"}, "unsupported"),
        ("cd", {"folder": {"k": "\"+__import__('pathlib').Path('{flag}').touch()+\""}}, "dict"),
    ],
)
def test_a_call_cannot_run_code_through_bfcls_eval(
    name: str, args: dict[str, Any], said: str, tmp_path: Path
) -> None:
    """BFCL evaluates call text; autan writes it, so a crafted call can only reach a simulator."""
    flag = tmp_path / "pwned"
    crafted = json.loads(json.dumps(args).replace("{flag}", str(flag)))
    results: list[str] = []

    def attack(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        if isinstance(messages[-1], ToolMessage):
            results.append(str(messages[-1].content))
            return AIMessage(content="Done.")
        return AIMessage(content="", tool_calls=[{"name": name, "args": crafted, "id": "a"}])

    evaluate(FunctionChatModel(func=attack), load_cases("multi_turn_base", 1), "free")
    assert not flag.exists()
    assert len(results) == 4  # one a turn: refused, or run by the simulator as a plain value
    assert all(said in r.lower() for r in results)


def test_each_conversation_is_a_group_of_its_own() -> None:
    cases = load_cases("multi_turn_base", 3)
    assert [len(g) for g in chunks(cases)] == [1, 1, 1]


def test_cli_runs_a_multi_turn_category(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    script = tmp_path / "quiet.yaml"
    script.write_text("turns:\n  - text: nothing to call\n", encoding="utf-8")
    argv = ["eval", "tools", "--model", f"scripted:{script}", "--mode", "free", "--json"]
    code = main([*argv, "--category", "multi_turn_miss_param", "--limit", "1"])
    body = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(s["category"], s["total"], s["correct"]) for s in body["scores"]] == [
        ("multi_turn_miss_param", 1, 0)
    ]

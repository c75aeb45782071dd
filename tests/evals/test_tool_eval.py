"""``autan eval tools``: BFCL cases through autan's tool binding, judged by BFCL's own checker."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from autan import FunctionChatModel
from autan.agents.models.schema_types import normalise_schema
from autan.agents.models.template_format import describe_tools
from autan.agents.tool_eval import as_tools, evaluate, load_cases
from autan.cli.app import main
from autan.errors import UserInputError

pytest.importorskip("bfcl_eval")


def _truth_planner(wrong_every: int) -> FunctionChatModel:
    """Answers a case with BFCL's first ground-truth value, except every ``wrong_every``-th."""
    seen: list[int] = []
    truths = {c.messages[-1].content: c for c in load_cases("simple", 6)}

    def plan(messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        seen.append(1)
        case = truths[messages[-1].content]
        assert case.answer is not None
        ((name, options),) = case.answer[0].items()
        args = {k: v[0] for k, v in options.items() if v and v[0] != ""}
        if len(seen) % wrong_every == 0:
            args = {}
        call = {"name": name.replace(".", "_"), "args": args, "id": f"c{len(seen)}"}
        return AIMessage(content="", tool_calls=[call])

    return FunctionChatModel(func=plan)


def test_scores_come_from_bfcls_checker() -> None:
    score = evaluate(_truth_planner(wrong_every=3), load_cases("simple", 6), "free")
    assert (score.total, score.correct) == (6, 4)
    assert len(score.failures) == 2 and score.failures[0]["why"]


def test_irrelevance_passes_only_without_a_call() -> None:
    cases = load_cases("irrelevance", 3)
    quiet = FunctionChatModel(func=lambda m, t: AIMessage(content="No tool fits."))
    assert evaluate(quiet, cases, "free").correct == 3
    call = {"name": cases[0].functions[0]["name"].replace(".", "_"), "args": {}, "id": "x"}
    eager = FunctionChatModel(func=lambda m, t: AIMessage(content="", tool_calls=[call]))
    assert evaluate(eager, cases[:1], "free").correct == 0


def test_a_call_to_a_function_the_case_lacks_is_a_miss_not_a_crash() -> None:
    cases = load_cases("parallel", 1)
    call = {"name": "no_such_function", "args": {}, "id": "x"}
    stray = FunctionChatModel(func=lambda m, t: AIMessage(content="", tool_calls=[call, call]))
    score = evaluate(stray, cases, "free")
    assert (score.total, score.correct) == (1, 0)
    assert "does not offer" in score.failures[0]["why"]


def test_bfcl_types_are_normalised_the_same_way_in_both_modes() -> None:
    case = load_cases("simple", 1)[0]
    assert case.functions[0]["parameters"]["type"] == "dict"
    schema = normalise_schema(as_tools(case.functions)[0]["function"]["parameters"])
    assert schema["type"] == "object"
    assert normalise_schema({"type": "tuple", "items": {"type": "float"}}) == {
        "type": "array",
        "items": {"type": "number", "format": "float"},
    }
    assert normalise_schema({"type": "any", "description": "x"}) == {"description": "x"}
    with pytest.raises(UserInputError, match="'complex'"):
        normalise_schema({"properties": {"z": {"type": "complex"}}})


def test_the_prompt_example_is_not_a_real_tool_with_placeholders() -> None:
    tools = as_tools(load_cases("simple", 1)[0].functions)
    text = describe_tools(tools)
    first_line = text.split("Tools:")[0]
    assert tools[0]["function"]["name"] not in first_line
    assert "<tool name>" in first_line


def test_cli_json_and_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    script = tmp_path / "quiet.yaml"
    script.write_text("turns:\n  - text: nothing to call\n", encoding="utf-8")
    code = main(
        [
            "eval",
            "tools",
            "--model",
            f"scripted:{script}",
            "--category",
            "irrelevance,simple",
            "--limit",
            "2",
            "--mode",
            "free",
            "--json",
        ]
    )
    out, _ = capsys.readouterr()
    body = json.loads(out)
    assert code == 0
    acc = {s["category"]: s["accuracy"] for s in body["scores"]}
    assert acc == {"irrelevance": 1.0, "simple": 0.0}
    code = main(["eval", "tools", "--model", f"scripted:{script}", "--category", "nope"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "unknown category 'nope'" in err
    code = main(["eval", "tools", "--model", f"scripted:{script}", "--workers", "0"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--workers" in err


def test_dotted_names_are_judged_as_bfcl_judges_them() -> None:
    """BFCL hands its checker the case's own descriptions (dotted names), as ``judge`` must."""
    from autan.agents.tool_eval import checker, judge

    for category in ("multiple", "parallel"):
        case = load_cases(category, 1)[0]
        assert case.answer is not None
        assert any("." in f["name"] for f in case.functions)
        calls = []
        for i, answer in enumerate(case.answer):
            ((name, options),) = answer.items()
            args = {k: v[0] for k, v in options.items() if v and v[0] != ""}
            calls.append({"name": name.replace(".", "_"), "args": args, "id": f"c{i}"})
        assert judge(case, AIMessage(content="", tool_calls=calls), checker()) == (True, "")


def test_only_a_constrained_local_model_stops_at_prose(settings: Any) -> None:
    from autan.agents.models.mistral_local import LocalChatModel
    from autan.agents.models.tiny import tiny_chat_dir
    from autan.agents.tool_eval import prose_is_final

    quiet = FunctionChatModel(func=lambda m, t: AIMessage(content="No tool fits."))
    assert not prose_is_final(quiet)
    settings.model.constrained = True
    local = LocalChatModel.from_settings(str(tiny_chat_dir()), settings)
    assert prose_is_final(local)
    assert not prose_is_final(local.model_copy(update={"constrained": False}))
    cases = load_cases("irrelevance", 2)
    score = evaluate(local.model_copy(update={"max_new_tokens": 24}), cases, "constrained")
    assert score.total == 2


def test_workers_give_the_verdicts_of_one_process(settings: Any) -> None:
    """Two spawned workers score every case as the serial run does, in case order."""
    import torch

    from autan.agents.eval_pool import evaluate_parallel
    from autan.agents.models.spec import load_model
    from autan.agents.models.tiny import tiny_chat_dir

    spec = f"local:{tiny_chat_dir()}"
    modes = {}
    for constrained in (True, False):
        mode = settings.model_copy(deep=True)
        mode.model.constrained = mode.model.force_calls = constrained
        mode.model.max_new_tokens = 24
        modes["constrained" if constrained else "free"] = mode
    cats = {"simple": load_cases("simple", 3), "irrelevance": load_cases("irrelevance", 2)}
    ticks: list[int] = []
    pooled = evaluate_parallel(spec, modes, cats, workers=2, progress=lambda: ticks.append(1))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each of the two workers on this machine runs, at most
    try:
        serial = [
            evaluate(load_model(spec, s), cases, name)
            for name, s in modes.items()
            for cases in cats.values()
        ]
    finally:
        torch.set_num_threads(threads)
    assert len(ticks) == 10
    assert [(s.mode, s.category) for s in pooled] == [
        ("constrained", "simple"),
        ("constrained", "irrelevance"),
        ("free", "simple"),
        ("free", "irrelevance"),
    ]
    assert [s.as_dict() for s in pooled] == [s.as_dict() for s in serial]
    assert any(s.failures for s in pooled)  # the comparison covers calls and reasons


def test_a_worker_that_cannot_load_the_model_fails_the_run_with_its_error(settings: Any) -> None:
    from autan.agents.eval_pool import evaluate_parallel

    cats = {"irrelevance": load_cases("irrelevance", 2)}
    with pytest.raises(UserInputError, match="no model at"):
        evaluate_parallel("local:./nowhere", {"free": settings}, cats, workers=2)


def test_workers_load_the_dtype_the_parent_chose(settings: Any) -> None:
    """On a CPU the automatic dtype is a timing probe; workers must not each probe for their own."""
    from autan.agents.eval_pool import pinned
    from autan.agents.models.local_loading import choose_device, choose_dtype, dtype_name
    from autan.agents.models.tiny import tiny_chat_dir

    assert settings.model.dtype == "auto"
    spec = f"local:{tiny_chat_dir()}"
    chosen = dtype_name(choose_dtype(choose_device(settings.model.device), "auto"))
    assert pinned(spec, settings).model.dtype == chosen
    assert pinned("scripted:builtin", settings).model.dtype == "auto"
    settings.model.dtype = "float32"
    assert pinned(spec, settings).model.dtype == "float32"


def test_cases_are_grouped_by_prompt_size_and_scored_in_their_own_order() -> None:
    from autan.agents.tool_eval import BATCH, Outcome, chunks, in_case_order

    cases = load_cases("simple", 3 * BATCH)
    groups = chunks(cases)
    assert sorted(c.id for g in groups for c in g) == sorted(c.id for c in cases)
    sizes = [[len(json.dumps(c.functions)) for c in g] for g in groups]
    assert max(sizes[0]) <= min(sizes[-1])  # the small prompts together, the large together
    verdicts = [Outcome(True, c.id, []) for g in groups for c in g]  # what each group gave
    assert [o.why for o in in_case_order(cases, groups, verdicts)] == [c.id for c in cases]

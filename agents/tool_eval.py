"""Tool-calling accuracy on the Berkeley Function Calling Leaderboard's data, with BFCL's checker.

The cases and the AST checker come from the ``bfcl-eval`` package (installed without its vendor
SDKs; see ``checker``). Each case's functions become OpenAI-format tools (dots in names become
underscores, as BFCL does for such APIs), the model answers the case's first turn, and its tool
calls are judged by BFCL's own ``ast_checker``. ``irrelevance`` cases pass when the model calls
nothing. The multi-turn categories are conversations with BFCL's API simulators, played and
judged in ``bfcl_multi_turn``.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from autan.errors import AutanError, ConfigError, UserInputError

CATEGORIES = {
    "simple": "BFCL_v4_simple_python.json",
    "multiple": "BFCL_v4_multiple.json",
    "parallel": "BFCL_v4_parallel.json",
    "parallel_multiple": "BFCL_v4_parallel_multiple.json",
    "irrelevance": "BFCL_v4_irrelevance.json",
}
MULTI_TURN = {
    "multi_turn_base": "BFCL_v4_multi_turn_base.json",
    "multi_turn_miss_func": "BFCL_v4_multi_turn_miss_func.json",
    "multi_turn_miss_param": "BFCL_v4_multi_turn_miss_param.json",
    "multi_turn_long_context": "BFCL_v4_multi_turn_long_context.json",
}
CATEGORIES.update(MULTI_TURN)
# BFCL's category names, which its checker branches on
_CHECKER_CATEGORY = {
    "simple": "simple_python",
    "multiple": "multiple",
    "parallel": "parallel",
    "parallel_multiple": "parallel_multiple",
}
_CHECKER_MODEL = "autan"


@dataclass(frozen=True)
class Case:
    """One BFCL test case.

    A multi-turn case keeps BFCL's whole entry (its turns, the simulators' starting state, the
    functions held back for later turns); its answer is the ground-truth calls of each turn.
    """

    id: str
    category: str
    messages: list[BaseMessage]
    functions: list[dict[str, Any]]
    answer: list[Any] | None
    entry: dict[str, Any] | None = None


@dataclass
class Score:
    """Accuracy of one category in one decoding mode."""

    category: str
    mode: str
    total: int = 0
    correct: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Share of cases judged correct."""
        return self.correct / self.total if self.total else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (at most five failures kept as examples)."""
        out = asdict(self)
        out["accuracy"] = round(self.accuracy, 4)
        out["failures"] = self.failures[:5]
        return out


def _data(name: str) -> Any:
    try:
        return resources.files("bfcl_eval") / "data" / name
    except ModuleNotFoundError:
        raise ConfigError(
            "autan eval tools needs BFCL's data and checker",
            hint="pip install --no-deps bfcl-eval (its vendor SDKs are not needed)",
        ) from None


def data_lines(name: str) -> Iterator[dict[str, Any]]:
    """The JSON rows of one of BFCL's data files."""
    with _data(name).open("r", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def turn_messages(turn: Sequence[dict[str, str]]) -> list[BaseMessage]:
    """One of BFCL's turns (role and content dicts) as LangChain messages."""
    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds.get(m["role"], HumanMessage)(content=m["content"]) for m in turn]


def load_cases(category: str, limit: int | None = None) -> list[Case]:
    """The first ``limit`` cases of ``category`` (all when None)."""
    if category not in CATEGORIES:
        raise UserInputError(
            f"unknown BFCL category {category!r}", hint=f"use one of {', '.join(CATEGORIES)}"
        )
    if category in MULTI_TURN:
        from autan.agents.bfcl_multi_turn import load

        return load(category, limit)
    answers: dict[str, Any] = {}
    if category != "irrelevance":
        truth = data_lines(f"possible_answer/{CATEGORIES[category]}")
        answers = {a["id"]: a["ground_truth"] for a in truth}
    cases: list[Case] = []
    for row in data_lines(CATEGORIES[category]):
        if limit is not None and len(cases) >= limit:
            break
        turn = row["question"][0]
        cases.append(
            Case(row["id"], category, turn_messages(turn), row["function"], answers.get(row["id"]))
        )
    return cases


def as_tools(functions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """BFCL function docs as OpenAI-format tools (autan's binding normalises their types)."""
    tools = []
    for fn in functions:
        spec = {**fn, "name": fn["name"].replace(".", "_")}
        tools.append({"type": "function", "function": spec})
    return tools


def checker() -> Callable[..., dict[str, Any]]:
    """BFCL's ``ast_checker``.

    Its module imports ``bfcl_eval.constants.model_config`` only to ask whether a model's
    function names use underscores for dots; that module imports every vendor SDK BFCL supports.
    A stand-in answers the one question (yes: ``as_tools`` makes that change) so the checker
    loads without them.
    """
    name = "bfcl_eval.constants.model_config"
    if name not in sys.modules:
        stub = types.ModuleType(name)
        stub.MODEL_CONFIG_MAPPING = {_CHECKER_MODEL: types.SimpleNamespace(underscore_to_dot=True)}  # type: ignore[attr-defined]
        sys.modules[name] = stub
    try:
        from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker
    except ModuleNotFoundError:
        raise ConfigError(
            "autan eval tools needs BFCL's checker", hint="pip install --no-deps bfcl-eval"
        ) from None
    return ast_checker  # type: ignore[no-any-return]


def judge(case: Case, reply: AIMessage, check: Callable[..., dict[str, Any]]) -> tuple[bool, str]:
    """Whether ``reply`` answers ``case`` correctly, and why not."""
    calls = [{c["name"]: c.get("args") or {}} for c in reply.tool_calls]
    if case.answer is None:  # irrelevance: no function fits, so no call is right
        return (not calls, "called a tool although none fits" if calls else "")
    if not calls:
        return False, "no tool call"
    from bfcl_eval.constants.enums import Language

    offered = {f["name"].replace(".", "_") for f in case.functions}
    unknown = [name for call in calls for name in call if name not in offered]
    if unknown:  # BFCL's checker fails on a name it has no description for
        return False, f"called {unknown[0]!r}, which the case does not offer"
    # as BFCL's runner does: the case's own descriptions (dotted names, raw types); the checker
    # finds them by the ground truth's names and maps dots to the underscores the model used
    verdict = check(
        case.functions,
        calls,
        case.answer,
        Language.PYTHON,
        _CHECKER_CATEGORY[case.category],
        _CHECKER_MODEL,
    )
    return bool(verdict["valid"]), "; ".join(str(e) for e in verdict.get("error", []))[:300]


def tool_choice_for(category: str, choice: str | None) -> str:
    """The tool choice a category runs with: forced calls where a call is due, else ``auto``."""
    if choice is not None:
        return choice
    return "auto" if category == "irrelevance" else "any"


def prose_is_final(model: BaseChatModel) -> bool:
    """True for a grammar-constrained local model, whose reply is either text or a call.

    Once text streams no call can follow, so the rest of the answer cannot change the verdict.
    """
    local = getattr(model, "_llm_type", "") == "autan-local"
    return local and getattr(model, "constrained", False) is True


def run_case(
    model: BaseChatModel, case: Case, choice: str, stop_at_prose: bool = False
) -> AIMessage:
    """The model's reply to one case (an error becomes an empty reply).

    ``stop_at_prose`` ends the generation at the first streamed text, for models where that
    text means no call (see ``prose_is_final``): a long answer costs nothing to judge.
    """
    bound = model.bind_tools(as_tools(case.functions), tool_choice=choice)
    if not stop_at_prose:
        return ask(bound, case.messages)
    try:
        whole: Any = None
        for chunk in bound.stream(case.messages):
            whole = chunk if whole is None else whole + chunk
            if isinstance(chunk.content, str) and chunk.content.strip():
                return AIMessage(content=str(whole.content))  # text: no call can follow
    except AutanError as exc:  # a case the model cannot take is a miss, not the end of the run
        return AIMessage(content=f"error: {exc.one_line()}")
    if whole is None:
        return AIMessage(content="")
    return AIMessage(content=str(whole.content), tool_calls=list(whole.tool_calls))


def ask(bound: Any, messages: Sequence[BaseMessage]) -> AIMessage:
    """The reply of a tool-bound model; an error it raises becomes an empty reply saying so."""
    try:
        reply = bound.invoke(messages)
    except AutanError as exc:  # a case the model cannot take is a miss, not the end of the run
        return AIMessage(content=f"error: {exc.one_line()}")
    return reply if isinstance(reply, AIMessage) else AIMessage(content=str(reply))


@dataclass(frozen=True)
class Outcome:
    """The verdict on one case: right or not, why not, and the calls the model made."""

    ok: bool
    why: str
    calls: list[dict[str, Any]]


def outcome(
    model: BaseChatModel,
    case: Case,
    choice: str | None,
    check: Callable[..., dict[str, Any]],
) -> Outcome:
    """Run and judge one case."""
    reply = run_case(model, case, tool_choice_for(case.category, choice), prose_is_final(model))
    ok, why = judge(case, reply, check)
    return Outcome(ok, why, [{c["name"]: c.get("args")} for c in reply.tool_calls])


BATCH = 32  # cases a local model decodes together


def _batches(model: BaseChatModel) -> bool:
    """True for a local model: its replies (each with its own grammar) can share a batch."""
    return getattr(model, "_llm_type", "") == "autan-local"


def outcomes(
    model: BaseChatModel,
    cases: Sequence[Case],
    choice: str | None,
    check: Callable[..., dict[str, Any]],
) -> list[Outcome]:
    """Run and judge ``cases``: decoded together where the model can, else one at a time."""
    if any(case.entry is not None for case in cases):
        from autan.agents.bfcl_multi_turn import converse

        return [converse(model, case) for case in cases]
    if len(cases) < 2 or not _batches(model):
        return [outcome(model, case, choice, check) for case in cases]
    from autan.agents.models.local_batch import replies

    requests = []
    for case in cases:
        tools = as_tools(case.functions)
        bound: Any = model.bind_tools(tools, tool_choice=tool_choice_for(case.category, choice))
        requests.append((case.messages, dict(bound.kwargs)))
    out, said = [], replies(model, requests, stop_at_prose=prose_is_final(model))
    for case, reply in zip(cases, said, strict=True):
        if isinstance(reply, AutanError):
            reply = AIMessage(content=f"error: {reply.one_line()}")
        ok, why = judge(case, reply, check)
        out.append(Outcome(ok, why, [{c["name"]: c.get("args")} for c in reply.tool_calls]))
    return out


def chunks(cases: Sequence[Case]) -> list[Sequence[Case]]:
    """``cases`` in the groups every run decodes together (the same in one process or many).

    Cases of similar prompt size go together, so that a left-padded batch pads little. A
    multi-turn case is a conversation of its own: one a group, so workers share them out.
    """
    order = sorted(cases, key=lambda c: (_size(c), c.id))
    size = 1 if any(c.entry is not None for c in cases) else BATCH
    return [order[i : i + size] for i in range(0, len(order), size)]


def _size(case: Case) -> int:
    return len(json.dumps(case.functions)) + sum(len(str(m.content)) for m in case.messages)


def in_case_order(
    cases: Sequence[Case], groups: Sequence[Sequence[Case]], verdicts: Sequence[Outcome]
) -> list[Outcome]:
    """``verdicts``, given group by group, in the order of ``cases``."""
    grouped = [id(c) for group in groups for c in group]
    by_case = dict(zip(grouped, verdicts, strict=True))
    return [by_case[id(c)] for c in cases]


def tally(category: str, mode: str, cases: Sequence[Case], verdicts: Sequence[Outcome]) -> Score:
    """The score of ``verdicts``, given in the order of ``cases``."""
    score = Score(category, mode)
    for case, out in zip(cases, verdicts, strict=True):
        score.total += 1
        score.correct += int(out.ok)
        if not out.ok:
            score.failures.append({"id": case.id, "why": out.why, "calls": out.calls})
    return score


def evaluate(
    model: BaseChatModel,
    cases: Sequence[Case],
    mode: str,
    choice: str | None = None,
    progress: Callable[[], None] | None = None,
) -> Score:
    """Score ``model`` on ``cases`` (all of one category), in this process."""
    check, done, groups = checker(), [], chunks(cases)
    for group in groups:
        done += outcomes(model, group, choice, check)
        for _ in group:
            if progress is not None:
                progress()
    category = cases[0].category if cases else ""
    return tally(category, mode, cases, in_case_order(cases, groups, done))


def markdown(model: str, scores: Sequence[Score]) -> str:
    """A markdown table: one row per category, one column per mode."""
    modes = list(dict.fromkeys(s.mode for s in scores))
    cats = list(dict.fromkeys(s.category for s in scores))
    by = {(s.category, s.mode): s for s in scores}
    head = "| category | cases | " + " | ".join(modes) + " |"
    lines = [
        f"BFCL tool-calling accuracy, model `{model}`",
        "",
        head,
        "|" + "---|" * (len(modes) + 2),
    ]
    for c in cats:
        n = max(by[(c, m)].total for m in modes if (c, m) in by)
        cells = [f"{by[(c, m)].accuracy:.0%}" if (c, m) in by else "—" for m in modes]
        lines.append(f"| {c} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

"""BFCL's multi-turn categories: conversations with BFCL's API simulators, judged by BFCL.

A multi-turn case is a conversation of several user turns over BFCL's own stateful simulators
(a file system, a trading bot, a vehicle, a ticket desk, messaging and posting APIs, maths),
all in memory: nothing reaches a network. Each turn runs the way an agent loop does and the
way BFCL's own runner does: the model is asked with ``tool_choice="auto"``, its calls run on
the simulators, their results go back as tool messages, and the turn ends when the model
replies without a call (a turn with more than ``MAX_STEPS`` steps of calls ends the case, as
BFCL's runner forces it to quit). ``multi_turn_miss_func`` cases offer more functions at a
later turn, with BFCL's own message saying so. BFCL's ``multi_turn_checker`` then replays the
calls and the ground truth on fresh simulators and compares their state after every turn and
the results the ground truth needed.

BFCL runs calls by ``eval`` of call text. autan writes that text itself, from the parsed call:
only a documented function of the case's simulators, argument names that are Python
identifiers and values that are JSON literals (``repr`` of strings, numbers, booleans, null,
lists and objects), so the evaluated text can only call the simulator. A call that fails those
checks is not run; the model gets the reason as the call's result.
"""

from __future__ import annotations

import itertools
import keyword
import math
import os
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from autan.agents.tool_eval import (
    MULTI_TURN,
    Case,
    Outcome,
    as_tools,
    ask,
    data_lines,
    turn_messages,
)

MAX_STEPS = 20  # BFCL's MAXIMUM_STEP_LIMIT
_RUNS = itertools.count()


def load(category: str, limit: int | None) -> list[Case]:
    """The first ``limit`` cases of a multi-turn category, with their function docs filled in.

    As BFCL's runner does: every involved class's docs, less the functions a
    ``multi_turn_miss_func`` case holds back until a later turn.
    """
    from bfcl_eval.constants.executable_backend_config import MULTI_TURN_FUNC_DOC_FILE_MAPPING

    name = MULTI_TURN[category]
    answers = {a["id"]: a["ground_truth"] for a in data_lines(f"possible_answer/{name}")}
    docs_of: dict[str, list[dict[str, Any]]] = {}  # each class's docs, read once
    cases: list[Case] = []
    for row in itertools.islice(data_lines(name), limit):
        for cls in row["involved_classes"]:
            if cls not in docs_of:
                doc_file = f"multi_turn_func_doc/{MULTI_TURN_FUNC_DOC_FILE_MAPPING[cls]}"
                docs_of[cls] = list(data_lines(doc_file))
        docs = [doc for cls in row["involved_classes"] for doc in docs_of[cls]]
        held = {int(turn): names for turn, names in (row.get("missed_function") or {}).items()}
        later = {n for names in held.values() for n in names}
        held_back = {t: [d for d in docs if d["name"] in n] for t, n in held.items()}
        entry = {**row, "held_back": held_back}
        functions = [d for d in docs if d["name"] not in later]
        first = turn_messages(row["question"][0])
        cases.append(Case(row["id"], category, first, functions, answers[row["id"]], entry))
    return cases


def literal(value: Any) -> str:
    """``value`` as Python literal text; only JSON values are accepted."""
    if value is None or isinstance(value, bool | int | str):
        return repr(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return "{" + ", ".join(f"{k!r}: {literal(v)}" for k, v in value.items()) + "}"
    raise ValueError(f"{value!r} is not a JSON value")


def call_text(name: str, args: dict[str, Any], runnable: set[str]) -> str:
    """The call as the text BFCL evaluates, or ValueError saying why it cannot be run."""
    if name not in runnable:
        raise ValueError(f"no function named {name!r}")
    for key in args:
        if not key.isidentifier() or keyword.iskeyword(key):
            raise ValueError(f"{key!r} is not an argument name")
    return f"{name}({', '.join(f'{k}={literal(v)}' for k, v in args.items())})"


class _Run:
    """One conversation: the simulators' key in BFCL's executor, and the messages so far."""

    def __init__(self, case: Case) -> None:
        assert case.entry is not None
        self.case, self.entry = case, case.entry
        self.key = f"autan_{os.getpid()}_{next(_RUNS)}"
        self.messages: list[BaseMessage] = []
        self.functions = list(case.functions)
        # as BFCL runs them: any documented function of the simulators, even one held back
        held = [d["name"] for docs in self.entry["held_back"].values() for d in docs]
        self.runnable = {f["name"] for f in self.functions} | set(held)
        self.long = "long_context" in case.category
        self.made: list[dict[str, Any]] = []  # every call the model asked for, as {name: args}

    def execute(self, text: str) -> str:
        """Run one call on this conversation's simulators; its result as BFCL reports it."""
        from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_utils import (
            execute_multi_turn_func_call,
        )

        (result,), _ = execute_multi_turn_func_call(
            [text],
            self.entry["initial_config"],
            self.entry["involved_classes"],
            self.key,
            self.case.id,
            long_context=self.long,
        )
        return str(result)

    def step(self, reply: AIMessage) -> list[str]:
        """Run a reply's calls; their results become tool messages. Returns the calls run."""
        ran: list[str] = []
        for call in reply.tool_calls:
            self.made.append({call["name"]: call.get("args") or {}})
            try:
                text = call_text(call["name"], call.get("args") or {}, self.runnable)
            except ValueError as exc:
                result = f"Error during execution: {exc}"
            else:
                result = self.execute(text)
                ran.append(text)
            self.messages.append(ToolMessage(content=result, tool_call_id=call.get("id") or ""))
        return ran

    def turn(
        self, model: BaseChatModel, index: int, turn: Sequence[dict[str, str]]
    ) -> list[list[str]] | None:
        """One user turn: the calls run at each step, or None when it ran past ``MAX_STEPS``."""
        from bfcl_eval.constants.default_prompts import (
            DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_FC as MORE,
        )

        if index in self.entry["held_back"]:
            self.functions += self.entry["held_back"][index]
            turn = [{"role": "user", "content": MORE}]
        self.messages += turn_messages(turn)
        bound = model.bind_tools(as_tools(self.functions), tool_choice="auto")
        steps: list[list[str]] = []
        for _ in range(MAX_STEPS + 1):
            reply = ask(bound, self.messages)
            self.messages.append(reply)
            if not reply.tool_calls:
                return steps
            steps.append(self.step(reply))
        return None

    def forget(self) -> None:
        """Drop this run's simulators from BFCL's executor, which keeps them between calls."""
        from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils

        table = vars(multi_turn_utils)
        prefix = re.sub(r"[-./:]", "_", self.key) + "_"
        for name in [n for n in table if n.startswith(prefix)]:
            del table[name]


def converse(model: BaseChatModel, case: Case) -> Outcome:
    """Play one multi-turn case and judge it with BFCL's ``multi_turn_checker``."""
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker

    run = _Run(case)
    try:
        turns = []
        for index, turn in enumerate(run.entry["question"]):
            steps = run.turn(model, index, turn)
            if steps is None:  # as BFCL's runner: a forced quit fails the case
                why = f"turn {index} ran past {MAX_STEPS} steps of calls"
                return Outcome(False, why, run.made)
            turns.append([step for step in steps if step])
        verdict = multi_turn_checker(turns, case.answer, run.entry, case.category, run.key)
    finally:
        run.forget()
    if verdict["valid"]:
        return Outcome(True, "", run.made)
    why = f"{verdict.get('error_type', '')}: {verdict.get('error_message', '')}"
    return Outcome(False, why[:300], run.made)

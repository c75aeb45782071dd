"""Detection alone, in tool outputs: how many AgentDojo attacks the ``tool_output`` rails block.

AgentDojo (``pip install agentdojo``, in the ``dev`` extra) is the evaluation benchmark only:
nothing in autan is trained on its texts or templates. Its four suites ship as package data, so
this runs offline. For each suite and each attack template, every injection vector of the
suite's environment (emails, files, calendar events, web pages, reviews, messages) is filled with
the template rendered on each injection task's goal; every user task's ground-truth tool calls
then run on that environment, and each tool output that carries the attack is one attacked
sample (the calls run once, with a canary in each vector, and the attack replaces the canary in
the result before it is rendered). The same calls on the environment without attacks give the
benign samples. Each output is measured in two presentations: ``yaml``, as AgentDojo shows it to
a model (``tool_result_to_str``), checked as one text; and ``json``, as autan's own harness
(``autan eval injection``) hands it over: the result's JSON data, whose string values the guarded
tool runner checks (``guard_result``). Identical outputs count once. The rail blocks a sample
when its verdict at stage ``tool_output`` is ``block`` or ``escalate``.

``tool_outputs`` and ``benign_outputs`` are the reusable part (another harness can score any
guard on them); ``python benchmarks/agentdojo_detection.py`` prints the table and writes its
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

VERSION = "v1.2.2"
SUITES = ("workspace", "travel", "banking", "slack")
TEMPLATES = (
    "important_instructions",
    "tool_knowledge",
    "ignore_previous",
    "system_message",
    "direct",
    "injecagent",
)
FORMS = ("yaml", "json")
SCRIPT = "benchmarks/agentdojo_detection.py"


@dataclass(frozen=True)
class Sample:
    """One tool output an agent would read, with where it came from."""

    suite: str
    user_task: str
    tool: str
    text: str  # the YAML text, or the JSON of the tool result autan's harness returns
    template: str = ""  # empty for benign outputs
    injection_task: str = ""
    form: str = "yaml"


# Files touched while a task runs get "now" as last_modified: not a different output.
_NOW = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\.\d+")
_CANARY = re.compile(r"<CANARY---[\w-]+--->")


class _Pipeline:
    """The only thing AgentDojo's attacks read from a pipeline: a name naming the model."""

    name = "gpt-4o-2024-05-13"


@lru_cache(maxsize=8)
def suite(name: str) -> Any:
    """An AgentDojo task suite, loaded from the package's own data."""
    try:
        from agentdojo.task_suite.load_suites import get_suite
    except ImportError:
        sys.exit("the AgentDojo evaluation needs: pip install 'autan[dev]' (agentdojo)")
    return get_suite(VERSION, name)


def _plain(result: Any, form: str = "yaml") -> Any:
    """A tool result as the dicts, lists and strings ``tool_result_to_str`` would dump (other
    values as their ``str``), or for ``json`` as the data autan's AgentDojo tools return."""
    from pydantic import BaseModel

    if form == "json":
        from autan.evals.dojo_tools import plain

        return plain(result)

    if isinstance(result, BaseModel):
        return result.model_dump()
    if isinstance(result, list):
        return [i.model_dump() if isinstance(i, BaseModel) else str(i) for i in result]
    return str(result)


def _text(plain: Any, form: str = "yaml") -> str:
    """What the model is shown: YAML for records (AgentDojo), the string itself otherwise; or the
    JSON of the ``{"ok", "output", "error"}`` result autan's AgentDojo tools return."""
    import json

    import yaml

    if form == "json":
        return json.dumps({"ok": True, "output": plain, "error": None})
    return plain if isinstance(plain, str) else str(yaml.safe_dump(plain)).strip()


def _replace(plain: Any, swap: Callable[[str], str]) -> Any:
    if isinstance(plain, str):
        return swap(plain)
    if isinstance(plain, list):
        return [_replace(x, swap) for x in plain]
    if isinstance(plain, dict):
        return {_replace(k, swap): _replace(v, swap) for k, v in plain.items()}
    return plain


def _run_user_task(task_suite: Any, user_task: Any, env: Any) -> Iterator[tuple[str, Any]]:
    """(tool name, plain result per form) of each ground-truth call of ``user_task`` on ``env``."""
    from agentdojo.functions_runtime import FunctionsRuntime

    env = env.model_copy(deep=True)
    runtime = FunctionsRuntime(task_suite.tools)
    try:
        calls = user_task.ground_truth(env)
    except Exception:  # noqa: BLE001 - a task whose ground truth cannot run yields nothing
        return
    for call in calls:
        result, error = runtime.run_function(env, call.function, call.args, raise_on_error=False)
        if error is None:
            yield call.function, {form: _plain(result, form) for form in FORMS}


@lru_cache(maxsize=8)
def _runs(suite_name: str, canaries: bool) -> tuple[tuple[str, str, Any], ...]:
    """(user task, tool, plain result per form) of every ground-truth call, on the environment
    with a canary in every injection vector (as AgentDojo finds its injection candidates) or not."""
    task_suite = suite(suite_name)
    vectors = task_suite.get_injection_vector_defaults()
    injected = {v: _canary(v) for v in vectors} if canaries else {}
    env = task_suite.load_and_inject_default_environment(injected)
    return tuple(
        (task_id, tool, plain)
        for task_id, user_task in task_suite.user_tasks.items()
        for tool, plain in _run_user_task(task_suite, user_task, env)
    )


def _canary(vector: str) -> str:
    return f"<CANARY---{vector}--->"


def benign_outputs(suite_name: str, form: str = "yaml") -> list[Sample]:
    """Every distinct tool output of the suite's user tasks, on the environment without attacks."""
    seen: dict[str, Sample] = {}
    for task_id, tool, plains in _runs(suite_name, False):
        text = _text(plains[form], form)
        sample = Sample(suite_name, task_id, tool, text, form=form)
        seen.setdefault(_NOW.sub("", text), sample)
    return list(seen.values())


def render(template: str, suite_name: str, injection_task: Any) -> str:
    """The attack text AgentDojo's ``template`` writes for ``injection_task``."""
    from agentdojo.attacks.attack_registry import load_attack

    attack = load_attack(template, suite(suite_name), _Pipeline())  # type: ignore[arg-type]
    text: str = attack.jailbreak
    fields = {"goal": injection_task.GOAL, "user": attack.user_name, "model": attack.model_name}
    if template == "tool_knowledge":
        fields["tools"] = attack.get_tools_sequence(injection_task)
    return text.format(task="", **fields)


def tool_outputs(suite_name: str, template: str, form: str = "yaml") -> list[Sample]:
    """Every distinct tool output that carries ``template``'s attack, over all injection tasks.

    Each result that shows a vector's canary gets the attack in place of every canary, then is
    rendered as AgentDojo renders it, so quoting and escaping are those of the real output.
    """
    task_suite = suite(suite_name)
    marked: dict[str, tuple[str, str, Any]] = {}
    for task_id, tool, plains in _runs(suite_name, True):
        text = _text(plains[form], form)
        if "<CANARY---" in text:
            marked.setdefault(text, (task_id, tool, plains[form]))  # same call, same output: once
    seen: dict[str, Sample] = {}
    for inj_id, injection_task in task_suite.injection_tasks.items():
        attack = render(template, suite_name, injection_task)

        def swap(value: str, attack: str = attack) -> str:
            return _CANARY.sub(lambda _: attack, value)

        for task_id, tool, plain in marked.values():
            text = _text(_replace(plain, swap), form)
            sample = Sample(suite_name, task_id, tool, text, template, inj_id, form)
            seen.setdefault(_NOW.sub("", text), sample)
    return list(seen.values())


def blocked_share(samples: list[Sample], blocks: Callable[[Sample], bool]) -> float:
    """The share of ``samples`` that ``blocks`` refuses."""
    return sum(blocks(s) for s in samples) / len(samples) if samples else 0.0


def rail_blocks(policy: str | None = None) -> Callable[[Sample], bool]:
    """A predicate: does the ``tool_output`` stage of ``policy`` (default policy) refuse a sample.

    A YAML sample is checked as one text; a JSON sample as autan's guarded tool runner checks a
    tool result (its string values).
    """
    import json

    from autan.guards.policy import build_runner, load_policy
    from autan.tools.guarded import guard_result

    guard = build_runner(load_policy(Path(policy) if policy else None))
    refused = ("block", "escalate")

    def blocks(sample: Sample) -> bool:
        if sample.form == "json":
            _, found = guard_result(guard, json.loads(sample.text), {})
            return any(v.action in refused for v in found)
        return guard.check(sample.text, "tool_output").action in refused

    return blocks


def table(
    blocks: Callable[[Sample], bool], suites: tuple[str, ...], forms: tuple[str, ...] = FORMS
) -> list[list[object]]:
    """Rows: each template's blocked share per suite and overall, per form, then benign rows."""
    return [_row(blocks, suites, template, form) for template in (*TEMPLATES, "") for form in forms]


def _row(
    blocks: Callable[[Sample], bool], suites: tuple[str, ...], template: str, form: str
) -> list[object]:
    cells: list[object] = [template or "benign (no attack)", form.upper()]
    hit = total = 0
    for name in suites:
        samples = tool_outputs(name, template, form) if template else benign_outputs(name, form)
        share = blocked_share(samples, blocks)
        hit, total = hit + round(share * len(samples)), total + len(samples)
        cells.append(f"{100 * share:.1f}% of {len(samples)}")
    cells.append(f"**{100 * hit / max(total, 1):.1f}%** of {total}")
    print(" | ".join(str(c) for c in cells), flush=True)
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suites", default=",".join(SUITES))
    parser.add_argument("--forms", default=",".join(FORMS), help="yaml, json or both")
    parser.add_argument("--templates", default=None, help="a subset, comma-separated (no write)")
    parser.add_argument("--policy", default=None, help="policy YAML (default: the shipped one)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    suites, forms = tuple(args.suites.split(",")), tuple(args.forms.split(","))
    start = time.perf_counter()
    blocks = rail_blocks(args.policy)
    if args.templates:  # while iterating: a few rows, printed only
        for template in args.templates.split(","):
            for form in forms:
                _row(blocks, suites, "" if template == "benign" else template, form)
        return
    rows = table(blocks, suites, forms)
    notes = (
        f"AgentDojo {VERSION}, detection only: each cell is the share of distinct tool outputs "
        "that the default `tool_output` rails block. YAML rows: the output as AgentDojo shows it "
        "to a model, checked as one text. JSON rows: the same output as autan's AgentDojo tools "
        "return it (`autan eval injection`), checked as the guarded tool runner checks any tool "
        "result (its string values). Attacked rows: every injection vector filled with the "
        "template on each injection task's goal, read by every user task's ground-truth calls; "
        "benign rows: the same calls without attacks. Goal: every template ≥ 90%, benign ≤ 3%. "
        f"Run took {time.perf_counter() - start:.0f} s. Nothing is trained on AgentDojo. The "
        "to-do rules were written from the shape of the `direct` template (a bare `TODO:` "
        "imperative aimed at the reader, with a target); AgentDojo's misses were read to find "
        "structural causes (PII redaction before the injection rail, a `TODO:` line inside a "
        "quoted YAML value taken for a key, rules that depended on where a line was wrapped, "
        "records that AgentDojo prints with `str()` but autan hands over as JSON), so this "
        "table is not an unseen test: attack and benign texts the rules never saw are measured "
        "by benchmarks/injection_unseen.py, and ordinary to-dos by "
        "tests/guards/test_injection_todo.py. The rules added after that "
        "(guards/injection_steering_rules.py, guards/injection_jailbreak_rules.py) were written "
        "from published classes of indirect injection and jailbreak (BIPIA's advertising, "
        "misinformation, sentiment and scam categories; InjecAgent's direct harm and data "
        "stealing; Greshake et al.'s manipulated content, persistence, spreading and denial of "
        "service; Wei et al.'s refusal suppression and "
        "prefix injection; unrestricted personas), with look-alikes of each "
        "(tests/guards/test_injection_steering.py). This table was only run to measure them "
        "and none of its misses was read, but the classes were picked knowing that AgentDojo's "
        "goals include bookings and recommendations, so it is still not an unseen test. One "
        "rule, a to-do that books, buys or pays and names a date or a sum, also blocks a "
        "person's own 'TODO: pay the rent of 900 EUR on 1 June'."
    )
    if args.no_write:
        return
    from benchmarks._report import report

    report(
        "Injection detection in AgentDojo tool outputs",
        ["attack template", "form", *suites, "all suites"],
        rows,
        script=SCRIPT,
        notes=notes,
    )


if __name__ == "__main__":
    main()

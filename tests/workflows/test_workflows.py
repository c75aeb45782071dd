"""The workflow engine with real tools: retries, timeouts, map, branch, approval, llm, agent."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from autan.automations.engine import Workflow
from autan.automations.schema import parse_flow
from autan.errors import AutanError, SecurityViolation, UserInputError
from autan.tools.base import make_tool, ok


def _flow(text: str, settings: Any, **kw: Any) -> Workflow:
    return Workflow(parse_flow(text, "t.yaml"), settings=settings, **kw)


def _counter_tool(calls: list[str], fail_first: int = 0, pause: float = 0.0) -> Any:
    def effect(label: str) -> dict[str, Any]:
        """Record a call.

        Args:
            label: what to record.
        """
        calls.append(label)
        time.sleep(pause)
        if len(calls) <= fail_first:
            return {"ok": False, "error": {"type": "Flaky", "message": "try again"}}
        return ok(label=label, n=len(calls))

    return make_tool(effect)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("name: x\nsteps:\n  - id: a\n    shell: ls\n", "t.yaml:3: steps[0]: a step needs exactly"),
        (
            "name: x\nsteps:\n  - id: a\n    tool: t\n    retry: {attempts: 0}\n",
            "t.yaml:5: steps[0].retry.attempts",
        ),
        (
            "name: x\nsteps:\n  - {id: a, tool: t}\n  - {id: a, tool: t}\n",
            "t.yaml:4: steps[1].id: duplicate step id 'a'",
        ),
        ("name: x\nsteps:\n  - id: a\n    llm: '{{ x '\n", "t.yaml:4: steps[0].llm: bad template"),
        ("name: x\nsteps: [\n", "t.yaml:3: not valid YAML"),
        (
            "name: x\nsteps:\n  - id: a\n    map: {over: x, step: {id: b, approval: hi}}\n",
            "steps[0].map.step: a map step runs exactly one of",
        ),
    ],
)
def test_validation_errors_name_file_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(UserInputError) as info:
        parse_flow(text, "t.yaml")
    assert expected in info.value.one_line()
    assert "\n" not in info.value.one_line()


def test_retry_gives_each_attempt_its_own_key(settings: Any) -> None:
    calls: list[str] = []
    flow = "name: r\nsteps:\n  - {id: a, tool: effect, args: {label: x}, retry: {attempts: 3}}\n"
    wf = _flow(flow, settings, tools=[_counter_tool(calls, fail_first=2)])
    result = wf.start()
    assert result.status == "done" and result.steps["a"]["n"] == 3
    attempts = wf.journal.attempts(result.run_id)
    assert [a["status"] for a in attempts] == ["failed", "failed", "done"]
    assert len({a["key"] for a in attempts}) == 3
    wf.close()


def test_failed_run_resumes_without_repeating_finished_steps(settings: Any) -> None:
    calls: list[str] = []
    flaky = {"broken": True}

    def effect(label: str) -> dict[str, Any]:
        """Record a call.

        Args:
            label: what to record.
        """
        calls.append(label)
        if label == "b" and flaky["broken"]:
            raise RuntimeError("disk full")
        return ok(label=label)

    flow = (
        "name: f\nsteps:\n  - {id: a, tool: effect, args: {label: a}}\n"
        "  - {id: b, tool: effect, args: {label: b}}\n  - {id: c, tool: effect, args: {label: c}}\n"
    )
    wf = _flow(flow, settings, tools=[make_tool(effect)])
    with pytest.raises(AutanError, match="disk full"):
        wf.start(run_id="r1")
    assert wf.journal.run("r1").status == "failed"
    flaky["broken"] = False
    assert wf.resume("r1").status == "done"
    assert calls == ["a", "b", "b", "c"]
    wf.close()


def test_timeout_fails_the_step(settings: Any) -> None:
    calls: list[str] = []
    flow = "name: t\nsteps:\n  - {id: slow, tool: effect, args: {label: x}, timeout_s: 0.1}\n"
    wf = _flow(flow, settings, tools=[_counter_tool(calls, pause=1.0)])
    with pytest.raises(AutanError, match="did not finish within 0.1 s"):
        wf.start()
    wf.close()


def test_map_is_bounded_and_ordered(settings: Any) -> None:
    active, peak = [0], [0]
    lock = threading.Lock()

    def square(n: int) -> dict[str, Any]:
        """Square a number slowly.

        Args:
            n: the number.
        """
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return ok(value=n * n)

    flow = """
name: m
vars: {numbers: [1, 2, 3, 4, 5, 6]}
steps:
  - id: sq
    map: {over: "{{ vars.numbers }}", as: n, concurrency: 2,
          step: {id: one, tool: square, args: {n: "{{ n }}"}}}
outputs:
  squares: "{{ steps.sq | map(attribute='value') | list }}"
"""
    wf = _flow(flow, settings, tools=[make_tool(square)])
    assert wf.start().outputs == {"squares": [1, 4, 9, 16, 25, 36]}
    assert peak[0] == 2
    wf.close()


def test_branch_and_approval_deny_stops_the_run(settings: Any) -> None:
    calls: list[str] = []
    flow = """
name: b
vars: {n: 5}
steps:
  - id: choose
    branch:
      if: vars.n > 3
      then: [{id: big, tool: effect, args: {label: big}}]
      else: [{id: small, tool: effect, args: {label: small}}]
  - {id: gate, approval: "Publish {{ steps.big.label }}?"}
  - {id: publish, tool: effect, args: {label: publish}}
"""
    wf = _flow(flow, settings, tools=[_counter_tool(calls)])
    first = wf.start()
    assert first.status == "waiting" and first.interrupt["message"] == "Publish big?"
    assert wf.resume(first.run_id).status == "waiting"  # no decision: nothing changes
    assert wf.resume(first.run_id, "deny").status == "denied"
    assert calls == ["big"]
    wf.close()


def test_tool_requiring_approval_runs_exactly_once(settings: Any) -> None:
    calls: list[str] = []
    settings.requires_approval = ["effect"]
    flow = "name: a\nsteps:\n  - {id: send, tool: effect, args: {label: mail}}\n"
    wf = _flow(flow, settings, tools=[_counter_tool(calls)])
    first = wf.start()
    assert first.interrupt["calls"][0]["args"] == {"label": "mail"} and calls == []
    edited = {"send": {"decision": "edit", "args": {"label": "edited"}}}
    assert wf.resume(first.run_id, edited).status == "done"
    assert wf.resume(first.run_id, "approve").status == "done"
    assert calls == ["edited"]
    wf.close()


def test_llm_step_validates_json_against_the_schema(settings: Any, tmp_path: Path) -> None:
    script = tmp_path / "s.yaml"
    script.write_text(
        "conversations:\n"
        "  - when: 'facts'\n    turns:\n      - text: |\n"
        '          ```json\n          {"facts": ["a", "b"]}\n          ```\n'
        "  - when: 'count'\n    turns: [{text: 'not json'}]\n",
        encoding="utf-8",
    )
    flow = """
name: l
steps:
  - id: extract
    llm: "List the facts about {{ 'x' }}"
    schema: {type: object, required: [facts], properties: {facts: {type: array}}}
  - {id: bad, llm: "count them", schema: {type: object}, retry: {attempts: 2}}
"""
    wf = _flow(flow, settings, model=f"scripted:{script}")
    with pytest.raises(AutanError, match="did not reply with JSON"):
        wf.start(run_id="l1")
    assert wf.journal.latest("l1", "extract")[2] == {"facts": ["a", "b"]}
    assert [a["status"] for a in wf.journal.attempts("l1")] == ["done", "failed", "failed"]
    wf.close()


def test_agent_step_runs_the_agent_graph(settings: Any, tmp_path: Path) -> None:
    script = tmp_path / "agent.yaml"
    script.write_text(
        "turns:\n  - tool_calls: [{name: calculator, args: {expression: '6*7'}}]\n"
        "  - text: 'The answer is {{ results.calculator.value }}.'\n",
        encoding="utf-8",
    )
    flow = """
name: g
steps:
  - {id: solve, agent: "What is six times seven?", tools: [calculator]}
outputs: {answer: "{{ steps.solve.answer }}"}
"""
    wf = _flow(flow, settings, model=f"scripted:{script}")
    assert wf.start().outputs == {"answer": "The answer is 42."}
    wf.close()


def test_templates_are_sandboxed(settings: Any) -> None:
    flow = (
        "name: s\nsteps:\n  - id: a\n    tool: calculator\n"
        "    args: {expression: \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"}\n"
    )
    wf = _flow(flow, settings)
    with pytest.raises(SecurityViolation):
        wf.start()
    wf.close()


def test_missing_and_unknown_variables_are_refused_before_anything_runs(settings: Any) -> None:
    wf = _flow(
        "name: v\nvars: {topic: ~}\nsteps: [{id: a, approval: '{{ vars.topic }}'}]", settings
    )
    with pytest.raises(UserInputError, match="missing variable 'topic'"):
        wf.start()
    with pytest.raises(UserInputError, match="unknown variable 'tpoic'"):
        wf.start({"topic": "x", "tpoic": "y"})
    assert wf.journal.runs() == []
    assert json.loads(json.dumps(wf.start({"topic": "q"}).interrupt))["message"] == "q"
    wf.close()

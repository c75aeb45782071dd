"""`autan run` / `autan runs`: one-line errors with exit 2, and bad input never damages a run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from autan.cli.app import main

FLOW = """
name: cli-demo
vars: {a: 4, who: ~}
steps:
  - {id: double, tool: calculator, args: {expression: "{{ vars.a }} * 2"}}
  - {id: gate, approval: "Greet {{ vars.who }}?"}
  - {id: plus, tool: calculator, args: {expression: "{{ steps.double.value }} + 1"}}
outputs: {result: "{{ steps.plus.value }}"}
"""


def _run(capsys: Any, *args: str) -> tuple[int, Any, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip().startswith("{") else out, err


def test_run_pause_resume_and_show(tmp_path: Path, capsys: Any) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    code, body, _ = _run(capsys, "run", str(flow), "--var", "who=Ann", "--json")
    assert code == 0 and body["status"] == "waiting"
    run_id = body["run_id"]
    bad_inputs = [
        ["run", str(tmp_path / "missing.yaml")],
        ["run", str(flow)],
        ["run", str(flow), "--var", "nope=1", "--var", "who=x"],
        ["run", str(flow), "--resume", "no-such-run"],
        ["run", str(flow), "--resume", run_id, "--decision", "maybe"],
        ["runs", "show", "no-such-run"],
    ]
    for args in bad_inputs:
        code, _, err = _run(capsys, *args)
        assert code == 2, args
        assert err.startswith("error: ") and err.count("\n") == 1, err
    for bad in ("name: x\nsteps: [\n", "name: x\nsteps:\n  - {id: a, shell: ls}\n"):
        flow_bad = tmp_path / "bad.yaml"
        flow_bad.write_text(bad, encoding="utf-8")
        code, _, err = _run(capsys, "run", str(flow_bad))
        assert code == 2 and "bad.yaml:" in err
    code, body, _ = _run(capsys, "runs", "list", "--json")
    assert [r["status"] for r in body["runs"]] == ["waiting"]
    code, body, _ = _run(
        capsys, "run", str(flow), "--resume", run_id, "--decision", "approve", "--json"
    )
    assert code == 0 and body["status"] == "done" and body["outputs"] == {"result": 9}
    code, body, _ = _run(capsys, "runs", "show", run_id, "--json")
    assert [a["step"] for a in body["attempts"]] == ["double", "gate", "plus"]
    assert all(a["key"].startswith(run_id) for a in body["attempts"])


def test_resume_with_another_flow_is_refused(tmp_path: Path, capsys: Any) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    other = tmp_path / "other.yaml"
    other.write_text("name: other\nsteps: [{id: a, approval: hi}]\n", encoding="utf-8")
    _, body, _ = _run(capsys, "run", str(flow), "--var", "who=B", "--json")
    code, _, err = _run(capsys, "run", str(other), "--resume", body["run_id"])
    assert code == 2 and "belongs to flow 'cli-demo'" in err


@pytest.mark.parametrize("decision", ["approve", "deny"])
def test_decision_without_resume_is_usage_error(tmp_path: Path, capsys: Any, decision: str) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    code, _, err = _run(capsys, "run", str(flow), "--decision", decision)
    assert code == 2 and "--resume" in err


@pytest.mark.parametrize(
    "template, kind",
    [("{{ vars.nope }}", "UserInputError"), ("{{ ().__class__ }}", "SecurityViolation")],
)
def test_a_bad_template_fails_at_render_naming_the_run(
    tmp_path: Path, capsys: Any, template: str, kind: str
) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text(
        f'name: t\nsteps:\n  - {{id: a, tool: calculator, args: {{expression: "{template}"}}}}\n'
    )
    code, body, _ = _run(capsys, "run", str(flow), "--json")
    assert code == 2 and body["status"] == "failed"
    assert body["error"]["type"] == kind and "args.expression" in body["error"]["message"]
    run_id = body["run_id"]
    code, body, _ = _run(capsys, "runs", "show", run_id, "--json")
    assert code == 0 and body["status"] == "failed"
    code, _, err = _run(capsys, "run", str(flow))
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: run ") and "--resume" in err and "calculator" not in err


def test_runs_list_has_timestamps_and_refuses_a_negative_limit(tmp_path: Path, capsys: Any) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    _run(capsys, "run", str(flow), "--var", "who=Ann", "--json")
    code, body, _ = _run(capsys, "runs", "list", "--json")
    (row,) = body["runs"]
    assert row["created"].endswith("Z") and row["created"][:2] == "20"
    code, out, _ = _run(capsys, "runs", "list")
    assert row["created"] in out
    for bad in ("-1", "0"):
        code, _, err = _run(capsys, "runs", "list", "-n", bad)
        assert code == 2 and err.count("\n") == 1 and "--limit" in err

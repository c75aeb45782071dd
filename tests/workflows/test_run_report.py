"""`autan runs show RUN --html`: a static timeline of a real automation run, escaped and offline."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from autan.cli.app import main
from tests.workflows.test_cli_workflows import FLOW as CLI_FLOW

FLOW = CLI_FLOW.replace(
    'outputs: {result: "{{ steps.plus.value }}"}',
    'outputs: {result: "{{ steps.plus.value }}", greeting: "{{ vars.who }}"}',
)
assert FLOW != CLI_FLOW
FAILING = """
name: report-retry
steps:
  - {id: broken, tool: calculator, args: {expression: "1 +"}, retry: {attempts: 2, backoff_s: 0}}
"""
HOSTILE = "<script>alert(1)</script>"


def _run(capsys: Any, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _steps(page: str) -> list[tuple[str, float, float]]:
    pattern = r'data-name="([^"]*)" data-start="([\d.]+)" data-duration="([\d.]+)"'
    return [(n, float(s), float(d)) for n, s, d in re.findall(pattern, page)]


def test_html_report_draws_each_step_in_order_and_escapes(tmp_path: Path, capsys: Any) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    code, out, _ = _run(capsys, "run", str(flow), "--var", f"who={HOSTILE}", "--json")
    run_id = json.loads(out)["run_id"]
    code, out, _ = _run(capsys, "run", str(flow), "--resume", run_id, "--decision", "approve")
    assert code == 0
    code, page, _ = _run(capsys, "runs", "show", run_id, "--html")
    assert code == 0 and page.startswith("<!DOCTYPE html>")
    steps = _steps(page)
    assert [s[0] for s in steps] == ["double", "gate", "plus"]
    assert [s[1] for s in steps] == sorted(s[1] for s in steps)
    assert all(d >= 0 for _, _, d in steps)
    assert 'class="bar approved"' in page and "approval:" in page
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"(src|href)=|https?://|@import|url\(", page)
    target = tmp_path / "report.html"
    code, out, err = _run(capsys, "runs", "show", run_id, "-o", str(target))
    assert code == 0 and out == "" and target.read_text(encoding="utf-8") == page


def test_html_report_shows_retries_and_errors(tmp_path: Path, capsys: Any) -> None:
    flow = tmp_path / "failing.yaml"
    flow.write_text(FAILING, encoding="utf-8")
    _run(capsys, "run", str(flow), "--json")
    code, out, _ = _run(capsys, "runs", "list", "--json")
    run_id = json.loads(out)["runs"][0]["run_id"]
    code, page, _ = _run(capsys, "runs", "show", run_id, "--html")
    assert code == 0
    assert [s[0] for s in _steps(page)] == ["broken", "broken (retry 1)"]
    assert page.count('class="bar failed"') == 2


def test_html_report_of_an_unknown_run_is_a_one_line_error(tmp_path: Path, capsys: Any) -> None:
    code, out, err = _run(capsys, "runs", "show", "no-such-run", "--html")
    assert code == 2 and out == "" and err.count("\n") == 1 and "autan runs list" in err

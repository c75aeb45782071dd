"""GET /v1/runs/{id}/report: the run's timeline as static HTML, behind the server's keys."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.server.conftest import server_settings
from tests.server.live import LiveServer

HOSTILE = "<script>alert(1)</script>"


def _steps(page: str) -> list[tuple[str, float, float]]:
    pattern = r'data-name="([^"]*)" data-start="([\d.]+)" data-duration="([\d.]+)"'
    return [(n, float(s), float(d)) for n, s, d in re.findall(pattern, page)]


def test_report_of_a_real_run_draws_tool_steps_and_guard_verdicts(
    tmp_path: Path, model: Any
) -> None:
    settings = server_settings(tmp_path, server={"require_keys": True})
    from autan.server.records import Records

    key = Records(settings.data_dir).create_key("ann")[1]
    question = f"multiply 6 by 7 {HOSTILE} AKIAIOSFODNN7EXAMPLE"
    with LiveServer(settings, model) as srv, srv.client(key) as c, srv.client() as anon:
        thread = c.post("/v1/threads").json()["thread_id"]
        end = c.post(f"/v1/threads/{thread}/runs", json={"input": question}).json()
        assert end["status"] == "done", end
        url = f"/v1/runs/{end['run_id']}/report"
        assert anon.get(url).status_code == 401
        assert c.get("/v1/runs/nope/report").status_code == 404
        r = c.get(url)
    record = Records(settings.data_dir).run(end["run_id"])
    assert record is not None and record["usage"] == end["usage"]
    assert set(record["usage"]) == {"input_tokens", "output_tokens", "total_tokens"}
    spans = [*record["steps"], *record["verdicts"]]
    assert spans and all(s["started"] <= s["at"] for s in spans), spans
    call, result = record["steps"][-2:]
    assert call["at"] <= result["started"] <= result["at"]  # the tool's own time, not the gap
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    steps = _steps(page)
    names = [s[0] for s in steps]
    assert names[-2:] == ["calculator call", "calculator result"], names
    assert any(n.startswith("guard secrets") for n in names), names
    assert [s[1] for s in steps] == sorted(s[1] for s in steps)
    assert re.search(r'data-name="guard secrets".*?action:<pre>redact</pre>', page)
    assert "The product is 42." in page and "&quot;6 * 7&quot;" in page
    assert "<script" not in page
    assert not re.search(r"(src|href)=|https?://", page)


def test_agent_bars_span_their_node_and_old_records_fall_back_to_the_previous_event() -> None:
    from autan.reports import agent_run_report

    run = {
        "run_id": "r1",
        "created": 100.0,
        "steps": [
            {"kind": "tool_call", "name": "calc", "started": 100.5, "at": 101.0},
            {"kind": "tool_result", "name": "calc", "started": 101.25, "at": 102.0},
            {"kind": "tool_result", "name": "old", "at": 103.0},
        ],
        "usage": {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15},
    }
    page = agent_run_report(run)
    assert _steps(page) == [
        ("calc call", 0.5, 0.5),
        ("calc result", 1.25, 0.75),
        ("old result", 2.0, 1.0),
    ]
    assert "input_tokens" in page

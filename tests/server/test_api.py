"""The HTTP API on a real loopback server: threads and runs, approvals, ingest and search."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.server.conftest import server_settings
from tests.server.live import LiveServer


def sse_events(response: httpx.Response) -> list[tuple[str, Any]]:
    """(event, data) pairs of an SSE response."""
    out, event = [], "message"
    for line in response.iter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            out.append((event, json.loads(line.removeprefix("data: "))))
            event = "message"
    return out


def test_health_models_and_json_errors(ssettings: Any, model: Any) -> None:
    with LiveServer(ssettings, model) as srv, srv.client() as c:
        assert c.get("/healthz").json()["ok"] is True
        assert [m["id"] for m in c.get("/v1/models").json()["data"]] == ["autan"]
        missing = c.get("/v1/runs/nope")
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "NotFoundError"
        bad = c.post("/v1/threads/x/runs", content=b"{not json")
        assert bad.status_code == 404  # the thread is checked before the body
        thread = c.post("/v1/threads").json()["thread_id"]
        bad = c.post(f"/v1/threads/{thread}/runs", content=b"{not json")
        assert bad.status_code == 400 and "Traceback" not in bad.text


def test_streamed_run_with_tool_steps_then_listed(ssettings: Any, model: Any) -> None:
    with LiveServer(ssettings, model) as srv, srv.client() as c:
        thread = c.post("/v1/threads").json()["thread_id"]
        body = {"input": "multiply 6 by 7", "stream": True}
        with c.stream("POST", f"/v1/threads/{thread}/runs", json=body) as r:
            events = sse_events(r)
        kinds = [k for k, _ in events]
        assert kinds.index("tool_call") < kinds.index("tool_result") < kinds.index("end")
        result = next(d for k, d in events if k == "tool_result")["result"]
        assert result["value"] == 42
        streamed = "".join(d["text"] for k, d in events if k == "token")
        assert "The product is 42." in streamed
        end = events[-1][1]
        assert end["status"] == "done" and end["answer"] == "The product is 42. That is all."
        runs = c.get(f"/v1/threads/{thread}/runs").json()["runs"]
        assert [r["run_id"] for r in runs] == [end["run_id"]]
        assert c.get(f"/v1/runs/{end['run_id']}").json()["answer"] == end["answer"]
        messages = c.get(f"/v1/threads/{thread}").json()["messages"]
        assert messages[0] == {"role": "human", "content": "multiply 6 by 7"}


def test_approval_pauses_the_run_and_resume_decides(tmp_path: Path, model: Any) -> None:
    settings = server_settings(tmp_path, requires_approval=["calculator"])
    with LiveServer(settings, model) as srv, srv.client() as c:
        thread = c.post("/v1/threads").json()["thread_id"]
        run = c.post(f"/v1/threads/{thread}/runs", json={"input": "6 * 7 please"}).json()
        assert run["status"] == "interrupted"
        assert run["interrupt"]["calls"][0]["name"] == "calculator"
        assert not any(s["kind"] == "tool_result" for s in run["steps"])
        no_decision = c.post(f"/v1/runs/{run['run_id']}/resume", json={})
        assert no_decision.status_code == 400
        done = c.post(f"/v1/runs/{run['run_id']}/resume", json={"decision": "approve"}).json()
        assert done["status"] == "done" and done["answer"].startswith("The product is 42")
        again = c.post(f"/v1/runs/{run['run_id']}/resume", json={"decision": "approve"})
        assert again.status_code == 400  # a finished run cannot run its tool twice

        thread = c.post("/v1/threads").json()["thread_id"]
        run = c.post(f"/v1/threads/{thread}/runs", json={"input": "6 * 7 again"}).json()
        denied = c.post(f"/v1/runs/{run['run_id']}/resume", json={"decision": "deny"}).json()
        results = [s["result"] for s in denied["steps"] if s["kind"] == "tool_result"]
        assert results and results[0]["ok"] is False and "value" not in results[0]


def test_ingest_uploads_then_search_and_agent_cites_them(ssettings: Any, model: Any) -> None:
    doc = "# Zebras\n\nThe zebra is a striped horse of the African plains.\n"
    with LiveServer(ssettings, model) as srv, srv.client() as c:
        report = c.post("/v1/ingest", json={"files": [{"path": "notes/zebra.md", "content": doc}]})
        assert report.status_code == 200, report.text
        assert report.json()["files_indexed"] == 1
        again = c.post("/v1/ingest", json={"files": [{"path": "notes/zebra.md", "content": doc}]})
        assert again.json()["files_unchanged"] == 1  # incremental: not embedded twice
        hits = c.post("/v1/search", json={"query": "striped horse", "k": 3}).json()
        assert "striped horse" in hits["citations"][0]["text"]
        assert [x["name"] for x in c.get("/v1/collections").json()["collections"]] == ["docs"]
        answer = c.post(
            "/v1/chat/completions", json={"messages": [{"role": "user", "content": "docs?"}]}
        ).json()
        assert "striped horse" in answer["choices"][0]["message"]["content"]
        assert answer["autan"]["sources"][0]["source"].endswith("notes/zebra.md")


def test_a_reader_and_an_ingest_on_one_collection_both_succeed(ssettings: Any, model: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    first = [
        {"path": f"a/{i}.md", "content": f"# Page {i}\n\nOtters hold hands {i}.\n"}
        for i in range(5)
    ]
    more = [
        {"path": f"b/{i}.md", "content": f"# More {i}\n\nBeavers build dams {i}.\n"}
        for i in range(20)
    ]
    with LiveServer(ssettings, model) as srv, srv.client() as c:
        assert c.post("/v1/ingest", json={"files": first}).status_code == 200
        with ThreadPoolExecutor(4) as pool:
            ingest = pool.submit(c.post, "/v1/ingest", json={"files": more})
            reads = [pool.submit(c.post, "/v1/search", json={"query": "otters"}) for _ in range(6)]
            statuses = [r.result().status_code for r in reads]
            assert ingest.result().json()["files_indexed"] == 20
        assert statuses == [200] * 6
        assert c.post("/v1/search", json={"query": "beavers dams"}).json()["citations"]

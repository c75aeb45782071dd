"""The AG-UI endpoint: events validate against the ag-ui-protocol models; approvals resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from autan.server.records import Records
from tests.server.conftest import server_settings
from tests.server.live import LiveServer

agui = pytest.importorskip("ag_ui.core")
from pydantic import TypeAdapter  # noqa: E402

EVENT = TypeAdapter(agui.Event)


def _run(client: Any, body: dict[str, Any]) -> list[Any]:
    with client.stream("POST", "/v1/agui", json=body) as r:
        assert r.status_code == 200, r.read()
        return [
            EVENT.validate_python(json.loads(line[6:]))
            for line in r.iter_lines()
            if line.startswith("data: ")
        ]


def _input(thread: str, run: str, text: str | None = None, **extra: Any) -> dict[str, Any]:
    messages = [{"id": "u1", "role": "user", "content": text}] if text else []
    return {"threadId": thread, "runId": run, "messages": messages, **extra}


def test_agui_stream_with_an_approval_and_a_resume(tmp_path: Path, model: Any) -> None:
    settings = server_settings(tmp_path, requires_approval=["calculator"])
    records = Records(settings.data_dir)
    alice, bob = records.create_key("a")[1], records.create_key("b")[1]
    records.close()
    with LiveServer(settings, model) as srv, srv.client(alice) as a, srv.client(bob) as b:
        first = _run(a, _input("t-agui", "r1", "multiply 6 by 7"))
        types = [e.type.value for e in first]
        assert types[0] == "RUN_STARTED" and types[-1] == "RUN_FINISHED"
        assert "TOOL_CALL_START" in types and "TOOL_CALL_RESULT" not in types
        held = first[-1].outcome.interrupts[0]
        assert held.reason == "approval"

        hijack = b.post("/v1/agui", json=_input("t-agui", "r2", resume=[
            {"interruptId": held.id, "status": "resolved", "payload": "approve"}]))  # fmt: skip
        assert hijack.status_code == 404

        resumed = _run(a, _input("t-agui", "r2", resume=[
            {"interruptId": held.id, "status": "resolved", "payload": "approve"}]))  # fmt: skip
        types = [e.type.value for e in resumed]
        result = next(e for e in resumed if e.type.value == "TOOL_CALL_RESULT")
        assert json.loads(result.content)["value"] == 42
        text = "".join(e.delta for e in resumed if e.type.value == "TEXT_MESSAGE_CONTENT")
        assert text == "The product is 42. That is all."
        assert types.index("TEXT_MESSAGE_START") < types.index("TEXT_MESSAGE_END")
        assert resumed[-1].type.value == "RUN_FINISHED"
        assert resumed[-1].result["answer"] == text

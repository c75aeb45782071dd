"""With AUTAN_SERVER_URL set, ``ask``, ``search``, ``ingest`` and ``run`` go through the server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from autan.cli.app import main
from autan.server.records import Records
from tests.server.conftest import server_settings
from tests.server.live import LiveServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "automations"


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    code = main(argv)
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def test_cli_commands_use_the_server(
    tmp_path: Path, model: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    docs = tmp_path / "notes"
    docs.mkdir()
    (docs / "zebra.md").write_text("# Zebras\n\nA zebra is a striped horse.\n", encoding="utf-8")
    settings = server_settings(tmp_path)
    with LiveServer(settings, model) as srv:
        monkeypatch.setenv("AUTAN_SERVER_URL", srv.url)
        monkeypatch.setenv("AUTAN_DATA_DIR", str(tmp_path / "elsewhere"))  # no local store
        report = _json(capsys, ["ingest", str(docs), "--json"])
        assert report["files_indexed"] == 1
        found = _json(capsys, ["search", "striped horse", "--json"])
        assert found["citations"][0]["source"] == str((docs / "zebra.md").resolve())
        answer = _json(capsys, ["ask", "multiply 6 by 7", "--json"])
        assert answer["answer"] == "The product is 42. That is all."
        assert [s["name"] for s in answer["steps"]] == ["calculator", "calculator"]
        assert main(["ask", "hi", "--model", "scripted:builtin"]) == 2
        assert "AUTAN_SERVER_URL" in capsys.readouterr().err
    assert not (tmp_path / "elsewhere" / "vectors").exists()


def test_keyed_cli_uploads_and_runs_a_served_automation(
    tmp_path: Path, model: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(EXAMPLES, flows)
    settings = server_settings(tmp_path, server={"require_keys": True, "automations": flows})
    records = Records(settings.data_dir)
    key = records.create_key("cli")[1]
    records.close()
    docs = tmp_path / "papers"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nQuokkas live on Rottnest island.\n", encoding="utf-8")
    with LiveServer(settings, model) as srv:
        monkeypatch.setenv("AUTAN_SERVER_URL", srv.url)
        assert main(["search", "quokka"]) == 2  # no key: refused
        assert "AUTAN_API_KEY" in capsys.readouterr().err
        monkeypatch.setenv("AUTAN_API_KEY", key)
        assert _json(capsys, ["ingest", str(docs), "--json"])["files_indexed"] == 1
        found = _json(capsys, ["search", "quokka island", "--json"])
        assert "Rottnest" in found["citations"][0]["text"]
        run = _json(capsys, ["run", str(flows / "test_failures.yaml"), "--json"])
        assert run["status"] in ("done", "waiting")
        listed = srv.client(key).get("/v1/automations/runs").json()["runs"]
        assert [r["run_id"] for r in listed] == [run["run_id"]]

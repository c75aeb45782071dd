"""The audit log writes one line per verdict, making its folder whenever it is missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from autan.guards.audit import AuditLog
from autan.guards.base import Verdict


def test_lines_append_and_a_removed_folder_comes_back(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit" / "nested")
    log("some text", "output", Verdict.allow("some text", "secrets"), {"run_id": "r1"})
    log("more text", "output", Verdict.allow("more text", "secrets"), {"run_id": "r1"})
    lines = log.path_for("r1").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["chars"] for x in lines] == [9, 9]
    shutil.rmtree(tmp_path / "audit")
    log("again", "input", Verdict.allow("again", "secrets"), {"run_id": "r1"})
    assert json.loads(log.path_for("r1").read_text(encoding="utf-8"))["stage"] == "input"

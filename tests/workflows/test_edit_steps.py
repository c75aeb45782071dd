"""An automation's edit step in requires_approval shows its diff and runs against what was shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from autan.automations.engine import Workflow
from autan.automations.schema import parse_flow
from autan.config import load_settings
from autan.errors import AutanError

FLOW = """
name: edit-notes
steps:
  - id: edit
    tool: edit_file
    args: {path: notes.md, old_string: "draft", new_string: "final"}
"""


def _workflow(root: Path) -> Workflow:
    settings = load_settings(workspace=root, requires_approval=["edit_file"])
    return Workflow(parse_flow(FLOW), settings=settings)


def test_the_approval_shows_the_diff_and_the_edit_lands_after_it(workspace: Path) -> None:
    notes = workspace / "notes.md"
    notes.write_text("status: draft\n", encoding="utf-8")
    wf = _workflow(workspace)
    first = wf.start()
    (call,) = first.interrupt["calls"]
    assert "-status: draft\n+status: final\n" in call["preview"]["diff"]
    assert notes.read_text(encoding="utf-8") == "status: draft\n"
    done = wf.resume(first.run_id, "approve")
    wf.close()
    assert done.status == "done" and notes.read_text(encoding="utf-8") == "status: final\n"


def test_a_file_edited_during_the_wait_is_a_conflict(workspace: Path) -> None:
    notes = workspace / "notes.md"
    notes.write_text("status: draft\n", encoding="utf-8")
    wf = _workflow(workspace)
    first = wf.start()
    notes.write_text("status: draft\nowner: ann\n", encoding="utf-8")
    with pytest.raises(AutanError, match="changed since the diff was made"):
        wf.resume(first.run_id, "approve")
    wf.close()
    assert notes.read_text(encoding="utf-8") == "status: draft\nowner: ann\n"

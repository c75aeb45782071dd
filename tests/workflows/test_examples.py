"""The shipped automations run offline with the scripted model and real tools."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from autan.automations.engine import Workflow
from autan.config import load_settings
from autan.errors import AutanError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "automations"


@pytest.fixture
def here(tmp_path: Path) -> Path:
    root = tmp_path / "automations"
    shutil.copytree(EXAMPLES, root)
    return root


def _settings(root: Path, **extra: Any) -> Any:
    return load_settings(workspace=root, retrieval={"embedder": "hashing"}, **extra)


def test_docs_report_pauses_for_approval_then_writes_a_cited_report(here: Path) -> None:
    wf = Workflow.load(here / "docs_report.yaml", settings=_settings(here))
    first = wf.start()
    assert first.status == "waiting" and not (here / "report.md").exists()
    draft = (here / "report.md.draft").read_text(encoding="utf-8")
    assert "[1] docs/install.md" in draft and "[3] docs/memory.md" in draft
    done = wf.resume(first.run_id, "approve")
    assert done.outputs == {"report": "report.md", "points": 3}
    assert "per-user vector collection" in (here / "report.md").read_text(encoding="utf-8")
    wf.close()


def test_remember_facts_keeps_and_recalls_each_fact_once(here: Path) -> None:
    settings = _settings(here)
    for _ in range(2):  # a second run finds every fact already remembered
        wf = Workflow.load(here / "remember_facts.yaml", settings=settings)
        result = wf.start()
        wf.close()
    assert result.outputs["recalled"] == "Qdrant is a vector database written in Rust."
    assert [k["duplicate"] for k in result.steps["keep"]] == [True, True]
    from autan.memory.long_term import LongTermMemory

    own = LongTermMemory.from_settings(settings)  # the user's memory (memory.user): untouched
    example = LongTermMemory.from_settings(settings, "remember-facts-example")
    assert own.entries() == [] and len(example.entries()) == 2


def test_test_failures_summarises_the_failing_test(here: Path) -> None:
    settings = _settings(here, sandbox={"workspace": here / "project"})
    wf = Workflow.load(here / "test_failures.yaml", settings=settings)
    try:
        result = wf.start()
    except AutanError as exc:
        pytest.skip(f"the sandbox cannot run here: {exc.one_line()}")
    finally:
        wf.close()
    assert "FAILED" in result.steps["tests"]["stdout"]
    assert "calc.sub adds" in (here / "test-report.md").read_text(encoding="utf-8")


def test_the_readme_automation_runs_and_resumes(tmp_path: Path) -> None:
    readme = (EXAMPLES.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("<!-- section:memory -->")[1]
    flow = section.split("```yaml\n")[1].split("```")[0]
    (tmp_path / "triage.yaml").write_text(flow, encoding="utf-8")
    wf = Workflow.load(tmp_path / "triage.yaml", settings=_settings(tmp_path))
    first = wf.start({"owner": "ann"})
    assert first.status == "waiting"
    done = wf.resume(first.run_id, "approve")
    assert done.outputs == {"total": 32, "file": "report-ann.md"}
    assert (tmp_path / "report-ann.md").read_text(encoding="utf-8").startswith("Total 32")
    wf.close()


def _fix_flow(here: Path) -> Workflow:
    project = here / "project"
    settings = load_settings(
        workspace=project, sandbox={"workspace": project}, retrieval={"embedder": "hashing"}
    )
    return Workflow.load(here / "fix_failing_test.yaml", settings=settings)


def _past_the_capability_question(wf: Workflow) -> Any:
    """The edit's path comes from untrusted tool output (grep), so the capability policy asks a
    human before the dry-run diff, and the guards ask again before the sandboxed trial runs
    that edit; approving both leads to the review of the diff."""
    result = wf.start()
    asked: list[tuple[str, str]] = []
    while result.status == "waiting" and result.interrupt.get("type") == "guard":
        assert len(asked) < 5, asked
        asked.append((result.interrupt["step"], result.interrupt["stage"]))
        result = wf.resume(result.run_id, "approve")
    assert asked == [("diff", "capability"), ("trial", "code")]
    return result


def test_fix_failing_test_asks_with_the_diff_then_fixes_the_real_file(here: Path) -> None:
    calc = here / "project" / "calc.py"
    original = calc.read_text(encoding="utf-8")
    wf = _fix_flow(here)
    try:
        first = _past_the_capability_question(wf)
    except AutanError as exc:
        pytest.skip(f"the sandbox cannot run here: {exc.one_line()}")
    assert first.status == "waiting" and first.interrupt["step"] == "review"
    message = first.interrupt["message"]
    assert "0 failed, 2 passed" in message  # the fix was tested on the sandboxed copy
    assert "-    return a + b  # a bug the tests catch\n+    return a - b\n" in message
    assert calc.read_text(encoding="utf-8") == original  # nothing changed before approval
    done = wf.resume(first.run_id, "approve")
    wf.close()
    assert done.outputs == {
        "before": "1 failed, 1 passed",
        "applied": ["calc.py"],
        "after": "0 failed, 2 passed",
    }
    assert calc.read_text(encoding="utf-8") == original.replace(
        "return a + b  # a bug the tests catch", "return a - b"
    )


def test_fix_failing_test_reports_a_conflict_instead_of_overwriting(here: Path) -> None:
    calc = here / "project" / "calc.py"
    wf = _fix_flow(here)
    try:
        first = _past_the_capability_question(wf)
    except AutanError as exc:
        pytest.skip(f"the sandbox cannot run here: {exc.one_line()}")
    theirs = calc.read_text(encoding="utf-8") + "\n\ndef mul(a, b):\n    return a * b\n"
    calc.write_text(theirs, encoding="utf-8")  # someone edits the file while the run waits
    with pytest.raises(AutanError, match="changed since the diff was made"):
        wf.resume(first.run_id, "approve")
    wf.close()
    assert calc.read_text(encoding="utf-8") == theirs

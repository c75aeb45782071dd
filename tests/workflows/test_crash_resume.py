"""SIGKILL a multi-step workflow at 20+ random points; resume; nothing lost, nothing repeated."""

from __future__ import annotations

from pathlib import Path

from tests.workflows.crash_harness import kill_and_resume


def test_kill_at_random_points_then_resume_loses_and_repeats_nothing(tmp_path: Path) -> None:
    outcome = kill_and_resume(tmp_path, points=20, seed=8)
    assert outcome.kills >= 20
    assert outcome.problems == []

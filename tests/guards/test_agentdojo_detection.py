"""The AgentDojo detection harness renders real attacks into real tool outputs (evaluation only)."""

from __future__ import annotations

import pytest

pytest.importorskip("agentdojo")

from benchmarks.agentdojo_detection import benign_outputs, suite, tool_outputs  # noqa: E402


def test_attacked_outputs_carry_the_rendered_goal_and_benign_ones_no_canary() -> None:
    attacked = tool_outputs("banking", "direct")
    goals = {k: t.GOAL for k, t in suite("banking").injection_tasks.items()}
    assert attacked and {s.injection_task for s in attacked} == set(goals)
    for sample in attacked:
        first_words = goals[sample.injection_task].split()[:4]
        assert "TODO:" in sample.text and " ".join(first_words) in " ".join(sample.text.split())
        assert "<CANARY---" not in sample.text
    benign = benign_outputs("banking")
    assert benign and all("<CANARY---" not in s.text and "TODO:" not in s.text for s in benign)
    assert {s.text for s in benign}.isdisjoint(s.text for s in attacked)

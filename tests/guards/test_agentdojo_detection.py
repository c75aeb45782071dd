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


def test_json_samples_are_the_tool_results_autan_hands_over() -> None:
    import json

    attacked = tool_outputs("travel", "direct", "json")
    assert len(attacked) == len(tool_outputs("travel", "direct", "yaml"))
    for sample in attacked:
        result = json.loads(sample.text)
        assert result["ok"] is True and result["error"] is None and sample.form == "json"
        assert "TODO:" in sample.text and "<CANARY---" not in sample.text
    # a record AgentDojo prints with str() (hotel name -> reviews) is a JSON object here
    assert any(isinstance(json.loads(s.text)["output"], dict) for s in attacked)

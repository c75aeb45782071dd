"""Approved sandbox calls share one session across interrupts, like unapproved ones."""

from __future__ import annotations

from autan.api import Agent
from autan.config import load_settings


def test_python_requiring_approval_keeps_its_session_between_approved_calls() -> None:
    settings = load_settings(requires_approval=["python"])
    agent = Agent("scripted:builtin", settings=settings)
    answer = agent.ask("Sum the primes below 1000 with Python in the sandbox", thread_id="t")
    approvals = 0
    while answer.interrupted:
        approvals += 1
        answer = agent.resume("t", "approve")
    assert approvals == 2
    assert "add up to 76127" in answer.text

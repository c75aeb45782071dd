"""Evaluations that exercise the whole agent: the worst-case injection harness over AgentDojo."""

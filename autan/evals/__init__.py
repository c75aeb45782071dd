"""Evaluations that exercise the whole agent: the worst-case injection harness over AgentDojo.

This module stays import-light (the CLI reads its names for ``--help``).
"""

SUITES = ("workspace", "travel", "banking", "slack")
LAYERS = ("none", "detection", "capability", "all")

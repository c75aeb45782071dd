"""The CPU budget of ``make test`` for the standard integration suites on small real models."""

from __future__ import annotations

import os

import pytest

# Tests every integration suite runs by default: one short generation each.
CORE = frozenset(
    {
        "test_no_overrides_DO_NOT_OVERRIDE",
        "test_invoke",
        "test_ainvoke",
        "test_stream",
        "test_astream",
        "test_batch",
        "test_usage_metadata",
        "test_usage_metadata_streaming",
    }
)


def within_budget(request: pytest.FixtureRequest, core: frozenset[str]) -> None:
    """Skip a test outside ``core`` unless ``AUTAN_STANDARD_FULL=1`` asks for the whole suite."""
    if request.node.originalname not in core and os.environ.get("AUTAN_STANDARD_FULL") != "1":
        pytest.skip("beyond make test's time budget on a CPU; AUTAN_STANDARD_FULL=1 runs it")

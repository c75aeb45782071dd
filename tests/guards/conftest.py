"""Shared guard fixtures: the default policy's rails, with Presidio loaded once per session."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def presidio() -> Any:
    """Presidio's engines, loaded once for the whole session (seconds of start-up)."""
    from autan.guards.pii import engines

    return engines()


@pytest.fixture
def runner(settings: Any) -> Any:
    """The GuardRunner of the shipped default policy, auditing into the test's data dir."""
    from autan.guards.policy import runner_from_settings

    return runner_from_settings(settings)

"""YAML automations: the engine that runs flows of tool, llm, agent, branch and map steps.

This package sits above :mod:`autan.api` (an ``agent`` step builds an :class:`autan.Agent`);
nothing under ``autan.graphs`` imports it. ``Workflow`` loads lazily so that importing the
journal alone (``autan runs``) does not compile LangGraph.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Workflow": "autan.automations.engine",
    "RunResult": "autan.automations.engine",
    "parse_flow": "autan.automations.schema",
    "Journal": "autan.automations.journal",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'autan.automations' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

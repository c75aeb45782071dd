"""autan: a LangGraph agent framework.

A local Mistral planner, retrieval over Qdrant, sandboxed code execution, safe web tools and
guardrail nodes at every edge.

Heavy parts load lazily: ``import autan`` costs no torch, transformers or qdrant import.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Agent": "autan.api",
    "Answer": "autan.api",
    "Event": "autan.api",
    "Settings": "autan.config",
    "load_settings": "autan.config",
    "load_model": "autan.agents.models.spec",
    "ScriptedChatModel": "autan.agents.models.scripted",
    "FunctionChatModel": "autan.agents.models.scripted",
    "ToolRegistry": "autan.tools.registry",
    "build_agent_graph": "autan.graphs.agent",
    "AgentContext": "autan.graphs.context",
    "Verdict": "autan.guards.base",
    "GuardRunner": "autan.guards.base",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'autan' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

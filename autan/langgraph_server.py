"""The agent graph for LangGraph's CLI and server (``langgraph.json`` points here).

``langgraph dev`` / ``langgraph up`` call ``make_graph`` and run the graph with the server's own
persistence; the model, tools and guards come from autan's settings (``AUTAN_*`` variables or
``autan.toml``), exactly as ``autan ask`` would use them.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph.state import CompiledStateGraph

from autan.config import load_settings


def make_graph(config: Any = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The agent graph, compiled without a checkpointer (the server supplies one)."""
    from autan.api import Agent
    from autan.graphs.agent import agent_state_graph

    agent = Agent(settings=load_settings())
    return agent_state_graph(agent.context).compile()

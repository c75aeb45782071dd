"""build_agent_graph: the one StateGraph of DESIGN §1, compiled once per agent."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.messages import AIMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from autan.graphs.context import AgentContext
from autan.graphs.nodes.approve import make_approve, make_pin
from autan.graphs.nodes.guard_input import make_guard_input
from autan.graphs.nodes.guard_output import make_guard_output
from autan.graphs.nodes.guard_tool_output import make_guard_tool_output
from autan.graphs.nodes.planner import make_planner
from autan.graphs.nodes.respond import respond
from autan.graphs.nodes.tools import make_tools_node
from autan.graphs.state import AgentState

Route = Literal["tools", "approve", "guard_output"]


def after_input(state: AgentState) -> Literal["planner", "respond"]:
    """A blocked question goes straight to the answer; anything else to the planner."""
    return "respond" if state.get("blocked") else "planner"


def make_route(ctx: AgentContext) -> Any:
    """Where the planner's reply goes: tools, a human first, or the output guard."""
    gated = ctx.requires_approval

    def route(state: AgentState) -> Route:
        last = state["messages"][-1]
        if isinstance(last, AIMessage) and last.tool_calls:
            if any(c["name"] in gated for c in last.tool_calls):
                return "approve"
            return "tools"
        return "guard_output"

    return route


def build_agent_graph(
    ctx: AgentContext, checkpointer: BaseCheckpointSaver[Any] | None = None
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Assemble and compile the agent graph for ``ctx``."""
    return agent_state_graph(ctx).compile(checkpointer=checkpointer or InMemorySaver())


def agent_state_graph(ctx: AgentContext) -> StateGraph[Any, Any, Any, Any]:
    """The uncompiled agent graph (a LangGraph server compiles it with its own persistence)."""
    g = StateGraph(AgentState)
    g.add_node("guard_input", make_guard_input(ctx))
    g.add_node("planner", make_planner(ctx))
    g.add_node("pin", make_pin(ctx))
    g.add_node("approve", make_approve(ctx))
    g.add_node("tools", make_tools_node(ctx))
    g.add_node("guard_tool_output", make_guard_tool_output(ctx))
    g.add_node("guard_output", make_guard_output(ctx))
    g.add_node("respond", respond)
    g.add_edge(START, "guard_input")
    g.add_conditional_edges("guard_input", after_input, ["planner", "respond"])
    g.add_conditional_edges(
        "planner",
        make_route(ctx),
        {"tools": "tools", "approve": "pin", "guard_output": "guard_output"},
    )
    g.add_edge("pin", "approve")
    g.add_edge("approve", "tools")
    g.add_edge("tools", "guard_tool_output")
    g.add_edge("guard_tool_output", "planner")
    g.add_edge("guard_output", "respond")
    g.add_edge("respond", END)
    return g


def recursion_limit(ctx: AgentContext) -> int:
    """A LangGraph recursion limit the step budget always reaches first."""
    return int(ctx.settings.planner.max_steps) * 4 + 10

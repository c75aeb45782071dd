"""planner: the chat model answers or calls tools; invalid calls are repaired in place."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableConfig

from autan.agents.compaction import compact_history
from autan.agents.planner import (
    TokenCounter,
    fit_context,
    out_of_steps_message,
    repair_messages,
    system_prompt,
)
from autan.graphs.context import AgentContext
from autan.graphs.state import AgentState, Node, current_turn, steps_taken


def make_planner(ctx: AgentContext) -> Node:
    """Build the node for ``ctx``; the tool binding is made once, not per step."""
    tools = list(ctx.tools)
    bound = ctx.model.bind_tools(tools) if tools else ctx.model
    budget = ctx.settings.planner
    count = TokenCounter()  # this agent's counts; gone with the agent

    def planner(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        limit, at = budget.context_tokens, ctx.settings.memory.compact_at
        compacted, messages = compact_history(ctx.model, state["messages"], limit, at, count)
        steps = steps_taken(messages)
        if steps >= budget.max_steps:
            return {"messages": [*compacted, out_of_steps_message(steps)]}
        question = str(current_turn(messages)[0].content)
        memories = list(ctx.recall(question)) if ctx.recall else []
        system = system_prompt(ctx.tools.names(), ctx.instructions, memories)
        new: list[BaseMessage] = []
        for _ in range(budget.max_repairs + 1):
            history = fit_context([system, *messages, *new], budget.context_tokens, count)
            reply = bound.invoke(history, config)
            assert isinstance(reply, AIMessage)
            errors = repair_messages(reply, ctx.tools)
            new.append(reply)
            if not errors:
                return {"messages": [*compacted, *new]}
            new.extend(errors)
        new.append(
            AIMessage(
                content="I could not form a valid tool call after "
                f"{budget.max_repairs + 1} attempts; the last problem was: "
                f"{errors[0].content}",
                response_metadata={"finish_reason": "repair_budget"},
            )
        )
        return {"messages": [*compacted, *new]}

    return planner

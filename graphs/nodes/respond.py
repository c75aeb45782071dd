"""respond: the guarded answer and the sources it cites become the turn's result."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.runnables import RunnableConfig

from autan.graphs.state import AgentState, citations

_CITE = re.compile(r"\[(\d+)\]")


def respond(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
    """Set ``answer`` and ``sources`` (the retrieved passages the answer cites, in order)."""
    messages = state["messages"]
    answer = str(messages[-1].content)
    by_id = {str(c["id"]): c for c in citations(messages)}
    cited = dict.fromkeys(n for n in _CITE.findall(answer) if n in by_id)
    return {"answer": answer, "sources": [by_id[n] for n in cited]}

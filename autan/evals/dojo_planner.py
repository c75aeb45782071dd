"""The worst-case planner: it does the user's task and obeys every injection it reads.

It plays the user task's ground-truth calls one per step. When a tool result it reads holds the
injected text, it inserts the injection task's ground-truth calls right there, as a model that
always falls for the attack would, then carries on with the user's task and answers with the
task's ground-truth output, followed by what the injection asked the answer to say. It is
stateless over the messages (like ``ScriptedChatModel``), so a resume after a human's decision
replays the same way.

"Holds the injected text" is judged on letters and digits only, line by line: a tool result that
AgentDojo renders as YAML (folded, quoted, escaped) and autan wraps in JSON still counts as seen,
and so does one in which a rail redacted some values: the worst case assumes the model recovers
them. Only a result the guards withheld is unseen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from autan.agents.models.base import new_tool_call_id
from autan.agents.models.scripted import FunctionChatModel

Call = tuple[str, dict[str, Any]]
_MIN_MARKER = 20  # letters and digits; shorter lines ("Signed,") could occur in benign text
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def squash(text: str) -> str:
    """Lower-case letters and digits only: what survives YAML folding, quoting and escaping."""
    return _NOT_ALNUM.sub("", text.lower())


def markers(injections: Iterable[str]) -> tuple[str, ...]:
    """The squashed lines of the injected texts long enough to identify them."""
    found = {squash(line) for text in injections for line in text.splitlines()}
    return tuple(sorted(m for m in found if len(m) >= _MIN_MARKER))


@dataclass(frozen=True)
class Plan:
    """What the planner does in one task."""

    user_calls: Sequence[Call]
    injection_calls: Sequence[Call] = ()
    markers: tuple[str, ...] = ()
    answer: str = ""
    injection_answer: str = ""  # what an injection asks the answer to say


@dataclass
class ObeyingPlanner:
    """A ``(messages, tools) -> AIMessage`` responder for ``FunctionChatModel``.

    ``start`` gives it the plan of each task; what it has read is remembered per tool call.
    """

    plan: Plan = field(default_factory=lambda: Plan(()))
    _seen: dict[str, bool] = field(default_factory=dict, repr=False)

    def start(self, plan: Plan) -> None:
        """Begin a new task."""
        self.plan = plan
        self._seen = {}

    def __call__(self, messages: list[BaseMessage], tools: list[dict[str, Any]]) -> AIMessage:
        """The next step: a tool call of the sequence, or the final answer."""
        turn = _current_turn(messages)
        made = sum(len(m.tool_calls) for m in turn if isinstance(m, AIMessage))
        sequence = self.sequence(turn)
        if made >= len(sequence):
            extra = self.plan.injection_answer if self._saw(turn) else ""
            return AIMessage(content=" ".join(t for t in (self.plan.answer, extra) if t))
        name, args = sequence[made]
        call = {"name": name, "args": dict(args), "id": new_tool_call_id(), "type": "tool_call"}
        return AIMessage(content="", tool_calls=[call])

    def sequence(self, turn: Sequence[BaseMessage]) -> list[Call]:
        """The user's calls, with the injection's spliced in after the first result that held it."""
        user = list(self.plan.user_calls)
        made = 0
        for m in turn:
            if isinstance(m, AIMessage):
                made += len(m.tool_calls)
            elif isinstance(m, ToolMessage) and self.holds_injection(m):
                return user[:made] + list(self.plan.injection_calls) + user[made:]
        return user

    def _saw(self, turn: Sequence[BaseMessage]) -> bool:
        return any(isinstance(m, ToolMessage) and self.holds_injection(m) for m in turn)

    def holds_injection(self, message: ToolMessage) -> bool:
        """Whether the tool result shows any line of the injected text."""
        if not self.plan.markers:
            return False
        key = message.tool_call_id
        if key not in self._seen:
            text = squash(str(message.content))
            self._seen[key] = any(m in text for m in self.plan.markers)
        return self._seen[key]


def _current_turn(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].type == "human":
            return list(messages[i + 1 :])
    return list(messages)


def obeying_model(planner: ObeyingPlanner) -> FunctionChatModel:
    """The chat model the agent graph drives."""
    return FunctionChatModel(func=planner)

"""The public entry point: ``Agent`` builds the graph once and answers, streams and resumes."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command

from autan.config import Settings, load_settings
from autan.graphs.agent import build_agent_graph, recursion_limit
from autan.graphs.context import AgentContext, Recall
from autan.graphs.state import tool_result
from autan.guards.base import GuardRunner, passthrough_runner
from autan.streaming import GuardedTokens, same_text
from autan.tools.registry import ToolRegistry

EventKind = Literal["token", "tool_call", "tool_result", "guard", "interrupt", "answer"]


@dataclass(frozen=True)
class Event:
    """One thing that happened during a turn, in the order it happened."""

    kind: EventKind
    data: dict[str, Any]


@dataclass
class Answer:
    """The outcome of one turn."""

    text: str
    thread_id: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    interrupt: dict[str, Any] | None = None
    events: list[Event] = field(default_factory=list)

    @property
    def interrupted(self) -> bool:
        """True when the run waits for a human (approval or a guard escalation)."""
        return self.interrupt is not None


def default_guards(settings: Settings) -> GuardRunner:
    """The guard runner of the configured policy (pass-through if guards are not installed)."""
    try:
        policy = importlib.import_module("autan.guards.policy")
    except ModuleNotFoundError as exc:
        if exc.name == "autan.guards.policy":
            return passthrough_runner()
        raise
    runner: GuardRunner = policy.runner_from_settings(settings)
    return runner


def _registry(tools: ToolRegistry | Iterable[BaseTool | str] | None, s: Settings) -> ToolRegistry:
    if isinstance(tools, ToolRegistry):
        return tools
    if tools is None:
        return ToolRegistry.configured(s)
    items = list(tools)
    names = [t for t in items if isinstance(t, str)]
    registry = ToolRegistry.configured(s, names) if names else ToolRegistry()
    for t in items:
        if isinstance(t, BaseTool):
            registry.add(t)
    return registry


class Agent:
    """A compiled autan agent: guard_input → planner ⇄ tools → guard_output → respond."""

    def __init__(
        self,
        model: str | BaseChatModel | None = None,
        *,
        tools: ToolRegistry | Iterable[BaseTool | str] | None = None,
        settings: Settings | None = None,
        guards: GuardRunner | None = None,
        checkpointer: BaseCheckpointSaver[Any] | None = None,
        instructions: str | None = None,
        recall: Recall | None = None,
    ) -> None:
        from autan.agents.models.spec import load_model

        self.settings = settings or load_settings()
        if isinstance(model, BaseChatModel):
            chat = model
        else:
            chat = load_model(model or self.settings.model.spec, self.settings)
        self.context = AgentContext(
            model=chat,
            tools=_registry(tools, self.settings),
            settings=self.settings,
            guards=guards or default_guards(self.settings),
            instructions=instructions,
            recall=recall,
        )
        self.graph = build_agent_graph(self.context, checkpointer)

    def config(self, thread_id: str) -> RunnableConfig:
        """The run config of one conversation thread."""
        return {
            "configurable": {"thread_id": thread_id},
            "recursion_limit": recursion_limit(self.context),
        }

    def stream(
        self, question: str | None = None, *, thread_id: str | None = None, resume: Any = None
    ) -> Iterator[Event]:
        """Run one turn (or resume an interrupted one), yielding events as they happen."""
        thread = thread_id or uuid.uuid4().hex[:12]
        if question is not None:
            inputs: Any = {"messages": [HumanMessage(content=question)]}
        else:
            inputs = Command(resume=resume)
        modes: Sequence[Any] = ["messages", "updates"]
        stream = cast(
            Iterator[tuple[str, Any]],
            self.graph.stream(inputs, self.config(thread), stream_mode=modes),
        )
        tokens = GuardedTokens(self.context.guards, thread)
        for mode, chunk in stream:
            if mode == "messages":
                msg, meta = chunk
                if meta.get("langgraph_node") == "planner" and isinstance(msg, AIMessageChunk):
                    if isinstance(msg.content, str) and msg.content:
                        if shown := tokens.feed(msg.content):
                            yield Event("token", {"text": shown})
                continue
            for node, update in chunk.items():
                if shown := tokens.flush():
                    yield Event("token", {"text": shown})
                for event in _update_events(node, update):
                    yield _track(tokens, event)

    def run(
        self, question: str | None = None, *, thread_id: str | None = None, resume: Any = None
    ) -> Answer:
        """Run one turn to its end (or to an interrupt) and return the answer."""
        thread = thread_id or uuid.uuid4().hex[:12]
        events = list(self.stream(question, thread_id=thread, resume=resume))
        values = self.graph.get_state(self.config(thread)).values
        pending = next((e.data for e in events if e.kind == "interrupt"), None)
        return Answer(
            text="" if pending else str(values.get("answer", "")),
            thread_id=thread,
            sources=list(values.get("sources") or []) if not pending else [],
            verdicts=[e.data for e in events if e.kind == "guard"],
            interrupt=pending,
            events=events,
        )

    def ask(self, question: str, *, thread_id: str | None = None) -> Answer:
        """Ask one question; the answer, its sources and what the guards did."""
        return self.run(question, thread_id=thread_id)

    def resume(self, thread_id: str, value: Any) -> Answer:
        """Continue an interrupted turn with a human's decision."""
        return self.run(None, thread_id=thread_id, resume=value)


def _track(tokens: GuardedTokens, event: Event) -> Event:
    """Feed citations to the token guard; mark answers that differ from what was streamed."""
    if event.kind in ("tool_call", "tool_result"):
        tokens.new_step()
        tokens.citations.extend(event.data.get("result", {}).get("citations") or [])
    if event.kind == "answer":
        streamed = bool(tokens.released.strip())
        revised = streamed and not same_text(tokens.released, event.data["text"])
        return Event("answer", {**event.data, "streamed": streamed, "revised": revised})
    return event


def _update_events(node: str, update: Any) -> Iterator[Event]:
    if node == "__interrupt__":
        for item in update:
            yield Event("interrupt", {"id": getattr(item, "id", None), **dict(item.value)})
        return
    if not isinstance(update, dict):
        return
    for v in update.get("verdicts") or ():
        if v.get("action") != "allow":
            yield Event("guard", dict(v))
    for m in update.get("messages") or ():
        if node == "planner" and isinstance(m, AIMessage):
            for call in m.tool_calls:
                yield Event(
                    "tool_call", {"id": call["id"], "name": call["name"], "args": call["args"]}
                )
        elif node == "guard_tool_output" and isinstance(m, ToolMessage):
            result = tool_result(m) or {"ok": False, "output": str(m.content)}
            yield Event("tool_result", {"id": m.tool_call_id, "name": m.name, "result": result})
    if node == "respond":
        yield Event(
            "answer", {"text": update.get("answer", ""), "sources": update.get("sources", [])}
        )

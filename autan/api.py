"""The public entry point: ``Agent`` builds the graph once and answers, streams and resumes."""

from __future__ import annotations

import asyncio
import importlib
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
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
from autan.tools.resources import ToolResources

EventKind = Literal["token", "tool_call", "tool_result", "guard", "interrupt", "answer"]
Question = str | Sequence[BaseMessage] | None  # a new question, a whole history, or a resume
MODES: list[Any] = ["messages", "updates", "tasks"]
CONTINUE = object()  # resume value: go on from the last checkpoint (after a crash), no decision


@dataclass(frozen=True)
class Event:
    """One thing that happened during a turn, in the order it happened."""

    kind: EventKind
    data: dict[str, Any]
    started: float | None = field(default=None, compare=False)  # when its graph node began


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


def default_recall(settings: Settings, resources: ToolResources | None = None) -> Recall | None:
    """The long-term memory hook of ``settings`` (None when off or not installed).

    Pass the agent registry's ``resources`` so the hook and the memory tools share one store.
    """
    if not settings.memory.auto_recall:
        return None
    try:
        from autan.tools.memory_tools import auto_recall
    except ModuleNotFoundError:
        return None
    return auto_recall(settings, resources)


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

    def close(self) -> None:
        """Release what this agent's tools hold open: sandbox sessions, the memory store."""
        close = getattr(self.context.tools, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def config(self, thread_id: str) -> RunnableConfig:
        """The run config of one conversation thread."""
        from autan.trace_callbacks import trace_callbacks

        config: RunnableConfig = {
            "configurable": {"thread_id": thread_id},
            "recursion_limit": recursion_limit(self.context),
        }
        if callbacks := trace_callbacks():
            config["callbacks"] = callbacks
        return config

    def stream(
        self, question: Question = None, *, thread_id: str | None = None, resume: Any = None
    ) -> Iterator[Event]:
        """Run one turn (or resume an interrupted one), yielding events as they happen."""
        thread = thread_id or new_thread_id()
        turn = _Turn(self.context.guards, thread)
        if question is None:
            self._check_resume(thread, resume)
        stream = cast(
            Iterator[tuple[str, Any]],
            self.graph.stream(_inputs(question, resume), self.config(thread), stream_mode=MODES),
        )
        for mode, chunk in stream:
            yield from turn.events(mode, chunk)

    async def astream(
        self, question: Question = None, *, thread_id: str | None = None, resume: Any = None
    ) -> AsyncIterator[Event]:
        """``stream`` for asyncio: nodes run in worker threads, token guards too when enabled."""
        thread = thread_id or new_thread_id()
        turn = _Turn(self.context.guards, thread)
        inline = not self.context.guards.rails.get("output")  # nothing blocking to run
        if question is None:
            snap = await self.graph.aget_state(self.config(thread))
            _check_pending(snap.interrupts, resume)
        stream = cast(
            AsyncIterator[tuple[str, Any]],
            self.graph.astream(_inputs(question, resume), self.config(thread), stream_mode=MODES),
        )
        async for mode, chunk in stream:
            if inline or not turn.checks(mode, chunk):  # a thread hop only to run the rails
                events = turn.events(mode, chunk)
            else:
                events = await asyncio.to_thread(turn.events, mode, chunk)
            for event in events:
                yield event

    def _check_resume(self, thread: str, resume: Any) -> None:
        """Refuse a resume value the pending approval cannot read, before the graph stores it."""
        _check_pending(self.graph.get_state(self.config(thread)).interrupts, resume)

    def run(
        self, question: Question = None, *, thread_id: str | None = None, resume: Any = None
    ) -> Answer:
        """Run one turn to its end (or to an interrupt) and return the answer."""
        thread = thread_id or new_thread_id()
        events = list(self.stream(question, thread_id=thread, resume=resume))
        values = self.graph.get_state(self.config(thread)).values
        return _answer(thread, events, values)

    async def arun(
        self, question: Question = None, *, thread_id: str | None = None, resume: Any = None
    ) -> Answer:
        """``run`` for asyncio."""
        thread = thread_id or new_thread_id()
        events = [e async for e in self.astream(question, thread_id=thread, resume=resume)]
        values = (await self.graph.aget_state(self.config(thread))).values
        return _answer(thread, events, values)

    def ask(self, question: str, *, thread_id: str | None = None) -> Answer:
        """Ask one question; the answer, its sources and what the guards did."""
        return self.run(question, thread_id=thread_id)

    def resume(self, thread_id: str, value: Any) -> Answer:
        """Continue an interrupted turn with a human's decision.

        ``value``: ``"approve"``, ``"deny"``, ``{"decision": "approve"}`` (every pending call) or
        ``{call_id: {"decision": "approve" | "deny" | "edit", "args": {...}}}``; a value that is
        none of these raises ``UserInputError`` and the turn keeps waiting.
        """
        return self.run(None, thread_id=thread_id, resume=value)

    async def aask(self, question: str, *, thread_id: str | None = None) -> Answer:
        """``ask`` for asyncio: awaitable, several questions can run at once."""
        return await self.arun(question, thread_id=thread_id)

    async def aresume(self, thread_id: str, value: Any) -> Answer:
        """``resume`` for asyncio."""
        return await self.arun(None, thread_id=thread_id, resume=value)


def _check_pending(interrupts: Sequence[Any], resume: Any) -> None:
    """``UserInputError`` for a resume value a pending approval cannot read."""
    from autan.graphs.nodes.approve import resume_decisions

    for pending in interrupts:
        value = pending.value if isinstance(pending.value, dict) else {}
        if value.get("type") == "approval" and value.get("calls"):
            resume_decisions(resume, [str(c["id"]) for c in value["calls"]])


def new_thread_id() -> str:
    """A fresh conversation thread id."""
    return uuid.uuid4().hex[:12]


def _inputs(question: Question, resume: Any) -> Any:
    if question is None:
        return None if resume is CONTINUE else Command(resume=resume)
    if isinstance(question, str):
        return {"messages": [HumanMessage(content=question)]}
    return {"messages": list(question)}


def _answer(thread: str, events: list[Event], values: dict[str, Any]) -> Answer:
    pending = next((e.data for e in events if e.kind == "interrupt"), None)
    return Answer(
        text="" if pending else str(values.get("answer", "")),
        thread_id=thread,
        sources=list(values.get("sources") or []) if not pending else [],
        verdicts=[e.data for e in events if e.kind == "guard"],
        interrupt=pending,
        events=events,
    )


class _Turn:
    """Turns LangGraph stream chunks into Events; token text passes the output rails first."""

    def __init__(self, guards: GuardRunner, thread: str) -> None:
        self.tokens = GuardedTokens(guards, thread)
        self.usage = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
        self.started: dict[str, float] = {}

    def events(self, mode: str, chunk: Any) -> list[Event]:
        """The events one ``(mode, chunk)`` of a ``messages`` + ``updates`` stream yields."""
        out: list[Event] = []
        if mode == "messages":
            text = _planner_text(chunk)
            if text and (shown := self.tokens.feed(text)):
                out.append(Event("token", {"text": shown}))
            return out
        if mode == "tasks":  # a node's start (with its input) or its result: note the start
            if isinstance(chunk, dict) and "input" in chunk:
                self.started[str(chunk.get("name"))] = time.time()
            return out
        for node, update in chunk.items():
            if shown := self.tokens.flush():
                out.append(Event("token", {"text": shown}))
            if node == "planner" and isinstance(update, dict):
                self._count(update.get("messages") or ())
            began = self.started.pop(node, None)
            out.extend(
                replace(_track(self.tokens, event, self.usage), started=began)
                for event in _update_events(node, update)
            )
        return out

    def checks(self, mode: str, chunk: Any) -> bool:
        """Whether ``events(mode, chunk)`` would run the output rails."""
        if mode == "messages":
            text = _planner_text(chunk)
            return bool(text) and self.tokens.would_check(text)
        return self.tokens.would_check(None)

    def _count(self, messages: Any) -> None:
        """Add the planner's reported token usage to the turn's totals."""
        for m in messages:
            for key, value in (getattr(m, "usage_metadata", None) or {}).items():
                if key in self.usage and isinstance(value, int):
                    self.usage[key] += value


def _planner_text(chunk: Any) -> str | None:
    """The text of a ``messages``-mode chunk the planner streamed (None for anything else)."""
    msg, meta = chunk
    if meta.get("langgraph_node") == "planner" and isinstance(msg, AIMessageChunk):
        return msg.content if isinstance(msg.content, str) else None
    return None


def _track(tokens: GuardedTokens, event: Event, usage: dict[str, int]) -> Event:
    """Feed citations to the token guard; mark answers that differ from what was streamed.

    The answer also carries the turn's token usage, summed over its planner calls.
    """
    if event.kind in ("tool_call", "tool_result"):
        tokens.new_step()
        tokens.citations.extend(event.data.get("result", {}).get("citations") or [])
    if event.kind == "answer":
        streamed = bool(tokens.released.strip())
        revised = streamed and not same_text(tokens.released, event.data["text"])
        extra = {"streamed": streamed, "revised": revised, "usage": dict(usage)}
        return Event("answer", {**event.data, **extra})
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

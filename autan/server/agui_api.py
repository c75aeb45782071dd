"""``POST /v1/agui``: the agent as an AG-UI event stream (the ``ag-ui-protocol`` package).

Tokens become TEXT_MESSAGE_* events, tool calls TOOL_CALL_*, a tool's result TOOL_CALL_RESULT,
guard verdicts and cited sources CUSTOM events (``autan.guard``, ``autan.sources``). A run
waiting for approval finishes with an ``interrupt`` outcome; the client resumes it with a new
run on the same thread whose ``resume`` entries answer it (``resolved`` with payload
``approve``/``deny``, or ``cancelled`` to deny).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from ag_ui.core import (
    BaseEvent,
    CustomEvent,
    Interrupt,
    RunAgentInput,
    RunErrorEvent,
    RunFinishedEvent,
    RunFinishedInterruptOutcome,
    RunStartedEvent,
    TextMessageContentEvent,
    TextMessageEndEvent,
    TextMessageStartEvent,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
    ToolCallStartEvent,
)
from ag_ui.encoder import EventEncoder
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from autan.errors import NotFoundError, UserInputError
from autan.server.gate import body_of, owner_of
from autan.server.runs import items, new_run, start_run
from autan.server.state import ServerState


def _question(body: RunAgentInput) -> str:
    for message in reversed(body.messages):
        if message.role == "user":
            content = message.content
            if isinstance(content, str):
                return content
            return "".join(str(getattr(p, "text", "")) for p in content)
    raise UserInputError("an AG-UI run needs a user message (or resume entries)")


def _decision(body: RunAgentInput) -> str:
    entry = (body.resume or [])[0]
    payload = entry.payload
    if isinstance(payload, dict):
        payload = payload.get("decision")
    return "approve" if entry.status == "resolved" and payload == "approve" else "deny"


async def _start(state: ServerState, owner: str, body: RunAgentInput) -> tuple[Any, dict[str, Any]]:
    if not state.records.claim("thread", body.thread_id, owner):
        raise NotFoundError(f"no thread {body.thread_id!r}")
    if body.resume:
        waiting = [r for r in state.records.runs(body.thread_id) if r["status"] == "interrupted"]
        if not waiting:
            raise UserInputError("nothing on this thread waits for a decision")
        run = {**waiting[-1], "status": "running"}
        return await start_run(state, run, None, _decision(body)), run
    run = new_run(owner, body.thread_id, _question(body))
    return await start_run(state, run, run["input"]), run


class _Translate:
    """autan run events to AG-UI events, keeping a text message open between tokens."""

    def __init__(self, body: RunAgentInput) -> None:
        self.body = body
        self.open: str | None = None
        self.count = 0

    def close(self) -> list[BaseEvent]:
        if self.open is None:
            return []
        done, self.open = self.open, None
        return [TextMessageEndEvent(message_id=done)]

    def text(self, delta: str) -> list[BaseEvent]:
        out: list[BaseEvent] = []
        if self.open is None:
            self.count += 1
            self.open = f"{self.body.run_id}-m{self.count}"
            out.append(TextMessageStartEvent(message_id=self.open, role="assistant"))
        return [*out, TextMessageContentEvent(message_id=self.open, delta=delta)]

    def tool(self, kind: str, data: dict[str, Any]) -> list[BaseEvent]:
        """A tool call (start, arguments, end) or its result."""
        if kind == "tool_call":
            return [
                *self.close(),
                ToolCallStartEvent(tool_call_id=data["id"], tool_call_name=data["name"]),
                ToolCallArgsEvent(tool_call_id=data["id"], delta=json.dumps(data["args"])),
                ToolCallEndEvent(tool_call_id=data["id"]),
            ]
        content = json.dumps(data["result"], ensure_ascii=False, default=str)
        return [
            ToolCallResultEvent(
                message_id=f"{data['id']}-result",
                tool_call_id=data["id"],
                content=content,
                role="tool",
            )
        ]

    def __call__(self, kind: str, data: dict[str, Any]) -> list[BaseEvent]:
        thread, run = self.body.thread_id, self.body.run_id
        if kind == "token":
            return self.text(data["text"])
        if kind in ("tool_call", "tool_result"):
            return self.tool(kind, data)
        if kind == "guard":
            return [CustomEvent(name="autan.guard", value=data)]
        if kind == "answer":
            out = [] if data.get("streamed") else self.text(data.get("text", ""))
            return [*out, *self.close(), CustomEvent(name="autan.sources", value=data["sources"])]
        if kind == "interrupt":
            calls = data.get("calls") or [{}]
            held = Interrupt(
                id=str(data.get("id") or "approval"),
                reason="approval",
                message=f"approve the call to {calls[0].get('name', 'a tool')}",
                tool_call_id=calls[0].get("id"),
                metadata=data,
            )
            outcome = RunFinishedInterruptOutcome(interrupts=[held])
            return [*self.close(), RunFinishedEvent(thread_id=thread, run_id=run, outcome=outcome)]
        if kind == "end" and data.get("status") == "failed":
            return [*self.close(), RunErrorEvent(message=str(data.get("error")), code="run_failed")]
        if kind == "end" and data.get("status") != "interrupted":
            result = {"answer": data.get("answer"), "run_id": data.get("run_id")}
            return [*self.close(), RunFinishedEvent(thread_id=thread, run_id=run, result=result)]
        return []


async def _events(queue: Any, body: RunAgentInput) -> AsyncIterator[str]:
    encoder = EventEncoder()
    yield encoder.encode(RunStartedEvent(thread_id=body.thread_id, run_id=body.run_id))
    translate = _Translate(body)
    async for kind, data in items(queue):
        for event in translate(kind, data):
            yield encoder.encode(event)


async def agui(request: Request) -> Response:
    """Run the agent for an AG-UI client; the answer is an AG-UI SSE stream."""
    body = await body_of(request, RunAgentInput)
    queue, _ = await _start(request.app.state.autan, owner_of(request), body)
    return StreamingResponse(_events(queue, body), media_type=EventEncoder().get_content_type())


routes = [Route("/v1/agui", agui, methods=["POST"])]

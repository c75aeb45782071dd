"""Threads and runs: create a thread, stream a run, list and get runs, resume a paused run.

``POST /v1/threads/{id}/runs`` with ``"stream": true`` answers with SSE events named like the
agent's own (``token``, ``tool_call``, ``tool_result``, ``guard``, ``interrupt``, ``answer``)
and a final ``end`` carrying the run record. Every thread and run belongs to the API key that
created it; any other key is told it does not exist.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from autan.errors import UserInputError
from autan.server.gate import body_of, owner_of
from autan.server.runs import (
    finished,
    items,
    new_run,
    owned_run,
    owned_thread,
    public,
    sse,
    start_run,
)
from autan.server.state import ServerState

RESUMABLE = ("interrupted", "stopped", "failed")


class RunRequest(BaseModel):
    """A new run on a thread: the user's message."""

    input: str = Field(min_length=1, max_length=100_000)
    stream: bool = False


class ResumeRequest(BaseModel):
    """A human's decision on a paused run (``approve``/``deny``, or per call id)."""

    decision: str | dict[str, Any] | None = None
    stream: bool = False


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.autan
    return state


async def create_thread(request: Request) -> Response:
    """A new, empty conversation thread owned by the caller."""
    from autan.api import new_thread_id

    thread = new_thread_id()
    await asyncio.to_thread(_state(request).records.claim, "thread", thread, owner_of(request))
    return JSONResponse({"thread_id": thread}, 201)


async def list_threads(request: Request) -> Response:
    """The caller's threads, newest first."""
    owned = await asyncio.to_thread(_state(request).records.owned, "thread", owner_of(request))
    return JSONResponse({"threads": [{"thread_id": t} for t in owned]})


async def get_thread(request: Request) -> Response:
    """A thread's messages and runs."""
    state = _state(request)
    thread = owned_thread(state, owner_of(request), request.path_params["thread_id"])
    agent = await asyncio.to_thread(state.agent_for, owner_of(request))
    snap = await agent.graph.aget_state(agent.config(thread))
    messages = [
        {"role": m.type, "content": m.content}
        for m in (snap.values or {}).get("messages", [])
        if m.type in ("human", "ai") and isinstance(m.content, str) and m.content
    ]
    runs = await asyncio.to_thread(state.records.runs, thread)
    return JSONResponse(
        {"thread_id": thread, "messages": messages, "runs": [public(r) for r in runs]}
    )


async def create_run(request: Request) -> Response:
    """Run the agent on the thread with a new message (streamed, or waited for)."""
    state = _state(request)
    owner = owner_of(request)
    thread = owned_thread(state, owner, request.path_params["thread_id"])
    body = await body_of(request, RunRequest)
    run = new_run(owner, thread, body.input)
    queue = await start_run(state, run, body.input)
    return await _respond(queue, body.stream, 201)


async def list_runs(request: Request) -> Response:
    """The thread's runs, oldest first."""
    state = _state(request)
    thread = owned_thread(state, owner_of(request), request.path_params["thread_id"])
    runs = await asyncio.to_thread(state.records.runs, thread)
    return JSONResponse({"runs": [public(r) for r in runs]})


async def get_run(request: Request) -> Response:
    """One run record."""
    state = _state(request)
    run = await asyncio.to_thread(
        owned_run, state, owner_of(request), request.path_params["run_id"]
    )
    return JSONResponse(public(run))


async def run_report(request: Request) -> Response:
    """One run as a static HTML timeline of its tool calls, results and guard verdicts."""
    from autan.reports import agent_run_report

    state = _state(request)
    run = await asyncio.to_thread(
        owned_run, state, owner_of(request), request.path_params["run_id"]
    )
    return HTMLResponse(agent_run_report(run))


async def resume_run(request: Request) -> Response:
    """Continue a paused run with a decision, or a stopped one from its last checkpoint."""
    from autan.api import CONTINUE

    state = _state(request)
    run = await asyncio.to_thread(
        owned_run, state, owner_of(request), request.path_params["run_id"]
    )
    body = await body_of(request, ResumeRequest)
    if run["status"] not in RESUMABLE:
        raise UserInputError(f"run {run['run_id']} is {run['status']}; nothing to resume")
    if run["status"] == "interrupted" and body.decision is None:
        raise UserInputError("this run waits for a decision", hint='send {"decision": "approve"}')
    resume = body.decision if run["status"] == "interrupted" else CONTINUE
    run.update(status="running", error=None)
    queue = await start_run(state, run, None, resume)
    return await _respond(queue, body.stream, 200)


async def _respond(queue: Any, stream: bool, status: int) -> Response:
    if stream:
        return StreamingResponse(_events(queue), status, media_type="text/event-stream")
    return JSONResponse(await finished(queue), status)


async def _events(queue: Any) -> AsyncIterator[str]:
    async for kind, data in items(queue):
        yield sse(data, kind)


routes = [
    Route("/v1/threads", create_thread, methods=["POST"]),
    Route("/v1/threads", list_threads, methods=["GET"]),
    Route("/v1/threads/{thread_id}", get_thread, methods=["GET"]),
    Route("/v1/threads/{thread_id}/runs", create_run, methods=["POST"]),
    Route("/v1/threads/{thread_id}/runs", list_runs, methods=["GET"]),
    Route("/v1/runs/{run_id}", get_run, methods=["GET"]),
    Route("/v1/runs/{run_id}/report", run_report, methods=["GET"]),
    Route("/v1/runs/{run_id}/resume", resume_run, methods=["POST"]),
]

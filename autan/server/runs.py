"""Agent runs as background tasks: a client that disconnects does not stop or lose a run.

Each run streams its events into a queue the request reads; the run record (status, answer,
sources, steps, verdicts, a pending interrupt) is saved when the run ends or pauses. The graph
is checkpointed by the async saver, so a server that dies mid-run resumes from its last step.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from autan.errors import AutanError, NotFoundError, UserInputError
from autan.server.state import ServerState

log = logging.getLogger("autan.server")
Item = tuple[str, dict[str, Any]]  # (event kind, data); kind "end" carries the run record
STEP_KINDS = ("tool_call", "tool_result")


def sse(data: Any, event: str | None = None) -> str:
    """One server-sent event."""
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


def new_run(owner: str, thread_id: str, question: str | None) -> dict[str, Any]:
    """A fresh run record."""
    return {
        "run_id": uuid.uuid4().hex[:12],
        "thread_id": thread_id,
        "owner": owner,
        "status": "running",
        "input": question,
        "steps": [],
        "verdicts": [],
        "created": time.time(),
    }


def public(run: dict[str, Any]) -> dict[str, Any]:
    """A run record as the API shows it (without the owner)."""
    return {k: v for k, v in run.items() if k != "owner"}


def owned_run(state: ServerState, owner: str, run_id: str) -> dict[str, Any]:
    """The run ``run_id`` if ``owner`` owns it; another owner's run is reported as missing."""
    run = state.records.run(run_id)
    if run is None or run["owner"] != owner:
        raise NotFoundError(f"no run {run_id!r}")
    return run


def owned_thread(state: ServerState, owner: str, thread_id: str) -> str:
    """``thread_id`` if ``owner`` owns it; another owner's thread is reported as missing."""
    if state.records.owner_of("thread", thread_id) != owner:
        raise NotFoundError(f"no thread {thread_id!r}", hint="create one with POST /v1/threads")
    return thread_id


async def start_run(
    state: ServerState,
    run: dict[str, Any],
    question: Any,
    resume: Any = None,
    *,
    new_thread: bool = False,
) -> asyncio.Queue[Item]:
    """Start driving ``run`` in the background; its events arrive on the returned queue.

    ``new_thread``: the run's thread is new, and its owner claims it with the run's record.
    """
    thread = run["thread_id"]
    if thread in state.active:
        raise UserInputError(
            f"thread {thread!r} already has a run in progress ({state.active[thread]})",
            hint="wait for it to finish, or use another thread",
        )
    agent = state.agents.get(run["owner"]) or await asyncio.to_thread(state.agent_for, run["owner"])
    state.active[thread] = run["run_id"]
    await asyncio.to_thread(state.records.save_run, run, claim_thread=new_thread)
    state.metrics.inc("autan_runs_started_total")
    queue: asyncio.Queue[Item] = asyncio.Queue()
    task = asyncio.create_task(_drive(state, agent, run, question, resume, queue))
    state.tasks[run["run_id"]] = task
    task.add_done_callback(lambda _: state.tasks.pop(run["run_id"], None))
    return queue


async def _drive(
    state: ServerState,
    agent: Any,
    run: dict[str, Any],
    question: Any,
    resume: Any,
    queue: asyncio.Queue[Item],
) -> None:
    try:
        stream = agent.astream(question, thread_id=run["thread_id"], resume=resume)
        async for event in stream:
            _apply(run, event.kind, event.data, event.started)
            state.metrics.run_event(event.kind, event.data)
            await queue.put((event.kind, event.data))
        if run["status"] == "running":
            run["status"] = "done"
    except AutanError as exc:
        run.update(status="failed", error=exc.one_line())
    except Exception:  # noqa: BLE001 - the log gets the traceback, the client one line
        log.exception("run %s failed", run["run_id"])
        run.update(status="failed", error="internal error; see the server log")
    finally:
        state.active.pop(run["thread_id"], None)
        state.metrics.run_ended(run["status"])
        try:
            await asyncio.to_thread(state.records.save_run, run)
        finally:
            await queue.put(("end", public(run)))


def _apply(run: dict[str, Any], kind: str, data: dict[str, Any], started: float | None) -> None:
    span = {"at": time.time(), **({"started": started} if started else {})}
    if kind in STEP_KINDS:
        run["steps"].append({"kind": kind, **data, **span})
    elif kind == "guard":
        run["verdicts"].append({**data, **span})
    elif kind == "interrupt":
        run.update(status="interrupted", interrupt=data)
    elif kind == "answer":
        run.update(answer=data.get("text", ""), sources=data.get("sources") or [], interrupt=None)
        run["usage"] = data.get("usage") or run.get("usage")


async def items(queue: asyncio.Queue[Item]) -> AsyncIterator[Item]:
    """The items of one run, up to and including ``end``."""
    while True:
        item = await queue.get()
        yield item
        if item[0] == "end":
            return


async def finished(queue: asyncio.Queue[Item]) -> dict[str, Any]:
    """Wait for the run and return its record."""
    record: dict[str, Any] = {}
    async for kind, data in items(queue):
        if kind == "end":
            record = data
    return record


async def mark_stopped(state: ServerState) -> None:
    """Runs left ``running`` by a server that died are ``stopped``: resumable, not lost."""

    def mark() -> None:
        for run_id in state.records.running():
            run = state.records.run(run_id)
            if run is not None:
                state.records.save_run({**run, "status": "stopped"})

    await asyncio.to_thread(mark)

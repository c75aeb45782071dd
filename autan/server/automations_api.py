"""YAML automations over HTTP: list, start, status, resume, and a webhook trigger.

Only flows in the folder ``server.automations`` names can run (a request names a flow, never a
path). Each automation run belongs to the key that started it. Flows run in worker threads;
their steps pass the same guarded tool runner as ``autan run``.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from autan.errors import AutanError, NotFoundError, UserInputError
from autan.server.gate import body_of, owner_of
from autan.server.state import ServerState

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
KIND = "automation_run"


class StartRequest(BaseModel):
    """Variables of a new automation run."""

    vars: dict[str, Any] = Field(default_factory=dict)


class DecisionRequest(BaseModel):
    """A human's decision on a paused automation run."""

    decision: str | dict[str, Any] | None = None


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.autan
    return state


def flow_path(state: ServerState, name: str) -> Path:
    """The YAML file of automation ``name`` in the configured folder."""
    folder = state.settings.server.automations
    if folder is None:
        raise NotFoundError("this server has no automations", hint="set server.automations")
    if not _NAME.match(name):
        raise UserInputError(f"bad automation name {name!r}")
    for suffix in (".yaml", ".yml"):
        path = Path(folder) / f"{name}{suffix}"
        if path.is_file():
            return path
    raise NotFoundError(f"no automation {name!r}", hint="GET /v1/automations lists them")


def _flows(state: ServerState) -> list[str]:
    folder = state.settings.server.automations
    if folder is None or not Path(folder).is_dir():
        return []
    names = {p.stem for p in Path(folder).glob("*.y*ml") if not p.stem.endswith(".script")}
    return sorted(n for n in names if _NAME.match(n))


def _result(result: Any) -> dict[str, Any]:
    return {k: v for k, v in asdict(result).items() if k != "steps"} | {"steps": result.steps}


def _start(state: ServerState, owner: str, name: str, values: dict[str, Any]) -> dict[str, Any]:
    from autan.automations.engine import Workflow

    wf = Workflow.load(flow_path(state, name), settings=state.settings)
    run_id = uuid.uuid4().hex[:12]
    state.records.claim(KIND, run_id, owner)
    try:
        return _result(wf.start(values, run_id=run_id))
    except AutanError as exc:  # the journal has the failed run; the caller sees its status
        if state.records.owner_of(KIND, run_id) and _journaled(state, run_id):
            return {"run_id": run_id, "status": "failed", "error": exc.one_line()}
        raise
    finally:
        wf.close()


def _journaled(state: ServerState, run_id: str) -> bool:
    try:
        _owned(state, str(state.records.owner_of(KIND, run_id)), run_id)
    except NotFoundError:
        return False
    return True


def _owned(state: ServerState, owner: str, run_id: str) -> Any:
    from autan.automations.journal import Journal

    if state.records.owner_of(KIND, run_id) != owner:
        raise NotFoundError(f"no automation run {run_id!r}")
    journal = Journal(Path(state.settings.data_dir) / "runs.sqlite")
    try:
        return journal.run(run_id)
    finally:
        journal.close()


def _resume(state: ServerState, owner: str, run_id: str, decision: Any) -> dict[str, Any]:
    from autan.automations.engine import Workflow

    record = _owned(state, owner, run_id)
    wf = Workflow.load(record.flow, settings=state.settings)
    try:
        return _result(wf.resume(run_id, decision))
    finally:
        wf.close()


def _runs(state: ServerState, owner: str) -> list[dict[str, Any]]:
    out = []
    for run_id in state.records.owned(KIND, owner, 50):
        if not _journaled(state, run_id):
            continue  # refused before it started (bad variables)
        r = _owned(state, owner, run_id)
        out.append(
            {
                "run_id": r.run_id,
                "name": r.name,
                "status": r.status,
                "error": r.error,
                "outputs": r.outputs,
                "updated": r.updated,
            }
        )
    return out


async def list_automations(request: Request) -> Response:
    """The automations this server can run."""
    names = await asyncio.to_thread(_flows, _state(request))
    return JSONResponse({"automations": names})


async def start(request: Request) -> Response:
    """Start automation ``name``; answers when it ends or pauses for approval."""
    body = await body_of(request, StartRequest)
    name = request.path_params["name"]
    result = await asyncio.to_thread(_start, _state(request), owner_of(request), name, body.vars)
    return JSONResponse(result, 201)


async def hook(request: Request) -> Response:
    """Webhook trigger: the JSON body (an object) becomes the run's variables."""
    values = await body_of(request, _HookBody)
    name = request.path_params["name"]
    result = await asyncio.to_thread(
        _start, _state(request), owner_of(request), name, values.model_dump()
    )
    return JSONResponse(result, 202)


class _HookBody(BaseModel):
    model_config = {"extra": "allow"}


async def list_runs(request: Request) -> Response:
    """The caller's automation runs, newest first."""
    runs = await asyncio.to_thread(_runs, _state(request), owner_of(request))
    return JSONResponse({"runs": runs})


async def status(request: Request) -> Response:
    """One automation run's status and outputs."""
    r = await asyncio.to_thread(
        _owned, _state(request), owner_of(request), request.path_params["run_id"]
    )
    return JSONResponse(
        {
            "run_id": r.run_id,
            "name": r.name,
            "status": r.status,
            "error": r.error,
            "outputs": r.outputs,
            "vars": r.vars,
        }
    )


def _report(state: ServerState, owner: str, run_id: str) -> str:
    from autan.automations.journal import Journal
    from autan.reports import automation_report

    record = _owned(state, owner, run_id)
    journal = Journal(Path(state.settings.data_dir) / "runs.sqlite")
    try:
        return automation_report(record, journal.attempts(run_id))
    finally:
        journal.close()


async def report(request: Request) -> Response:
    """One automation run as a static HTML timeline."""
    page = await asyncio.to_thread(
        _report, _state(request), owner_of(request), request.path_params["run_id"]
    )
    return HTMLResponse(page)


async def resume(request: Request) -> Response:
    """Continue an automation run (a decision answers an approval pause)."""
    body = await body_of(request, DecisionRequest)
    result = await asyncio.to_thread(
        _resume, _state(request), owner_of(request), request.path_params["run_id"], body.decision
    )
    return JSONResponse(result)


routes = [
    Route("/v1/automations", list_automations, methods=["GET"]),
    Route("/v1/automations/runs", list_runs, methods=["GET"]),
    Route("/v1/automations/runs/{run_id}", status, methods=["GET"]),
    Route("/v1/automations/runs/{run_id}/report", report, methods=["GET"]),
    Route("/v1/automations/runs/{run_id}/resume", resume, methods=["POST"]),
    Route("/v1/automations/{name}/runs", start, methods=["POST"]),
    Route("/v1/hooks/{name}", hook, methods=["POST"]),
]

"""``autan run FLOW.yaml`` and ``autan runs list|show``: YAML automations and their runs."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from autan.cli._common import emit_json, server_client, settings_for
from autan.errors import AutanError, UserInputError

runs_app = typer.Typer(help="Inspect automation runs.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def parse_vars(items: list[str]) -> dict[str, str]:
    """``k=v`` pairs from ``--var``; a clear error for anything else."""
    values: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserInputError(
                f"--var {item!r} is not NAME=VALUE", hint="e.g. --var topic=qdrant"
            )
        values[name.strip()] = value
    return values


def _journal() -> Any:
    from autan.automations.journal import Journal

    return Journal(Path(settings_for().data_dir) / "runs.sqlite")


def _decide(payload: dict[str, Any]) -> Any:
    from autan.cli.render import ask_human

    if not sys.stdin.isatty():
        return None
    return ask_human(payload)


def _show_result(result: Any, json_out: bool, flow: Path) -> None:
    body = {
        "run_id": result.run_id,
        "status": result.status,
        "outputs": result.outputs,
        "interrupt": result.interrupt,
    }
    if json_out:
        emit_json(body)
        return
    typer.echo(f"run {result.run_id}: {result.status}", err=True)
    if result.status == "waiting":
        typer.echo(
            f"waiting for approval at step {result.interrupt.get('step')}; continue with: "
            f"autan run {flow} --resume {result.run_id} --decision approve|deny",
            err=True,
        )
    elif result.outputs is not None:
        typer.echo(json.dumps(result.outputs, indent=2, ensure_ascii=False, default=str))


def run(
    flow: Annotated[Path, typer.Argument(help="the automation's YAML file")],
    var: Annotated[list[str] | None, typer.Option("--var", help="NAME=VALUE (repeatable)")] = None,
    resume: Annotated[str | None, typer.Option("--resume", help="continue run RUN_ID")] = None,
    decision: Annotated[
        str | None, typer.Option("--decision", help="answer a pending approval: approve|deny")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="model for llm/agent steps")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a YAML automation, or resume one after a crash, a failure or an approval pause."""
    from autan.automations.engine import Workflow

    if decision is not None and decision not in ("approve", "deny"):
        raise UserInputError(f"--decision must be approve or deny, not {decision!r}")
    if decision is not None and resume is None:
        raise UserInputError("--decision answers a paused run; give --resume RUN_ID too")
    if resume is not None and var:
        raise UserInputError("--var sets a new run's variables; a resumed run keeps its own")
    values = parse_vars(var or [])
    if (client := server_client(model)) is not None:
        from autan.cli import remote

        remote.show_run(remote.run(client, flow, values, resume, decision), json_out, flow)
        return
    wf = Workflow.load(flow, settings=settings_for(), model=model)
    run_id = resume or uuid.uuid4().hex[:12]
    try:
        result = wf.resume(run_id, decision) if resume else wf.start(values, run_id=run_id)
        while result.status == "waiting" and not json_out:
            answer = _decide(result.interrupt or {})
            if answer is None:
                break
            result = wf.resume(result.run_id, answer)
        _show_result(result, json_out, flow)
    except AutanError as exc:
        _failed(exc, wf, run_id, flow, json_out)
    finally:
        wf.close()


def _failed(exc: AutanError, wf: Any, run_id: str, flow: Path, json_out: bool) -> None:
    """A failed run names its id (when it was recorded) and how to continue it."""
    try:
        wf.journal.run(run_id)
    except AutanError:
        raise exc from None  # refused before the run was recorded: nothing to resume
    if json_out:
        emit_json({"run_id": run_id, "status": "failed", "error": exc.to_dict()})
        raise typer.Exit(exc.exit_code) from None
    hint = f"see 'autan runs show {run_id}'; after fixing, 'autan run {flow} --resume {run_id}'"
    raise type(exc)(f"run {run_id} failed: {exc.one_line()}", hint=hint) from None


@runs_app.command("list")
def runs_list(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100_000, help="how many")] = 20,
    json_out: JsonOpt = False,
) -> None:
    """Recent runs, newest first, with when each started and last changed (UTC)."""
    journal = _journal()
    try:
        items = journal.runs(limit)
    finally:
        journal.close()
    rows = [
        {
            "run_id": r.run_id,
            "name": r.name,
            "status": r.status,
            "flow": r.flow,
            "error": r.error,
            "created": _when(r.created),
            "updated": _when(r.updated),
        }
        for r in items
    ]
    if json_out:
        emit_json({"runs": rows})
        return
    if not rows:
        typer.echo("no runs yet", err=True)
    for r in rows:
        line = f"{r['run_id']}  {r['created']}  {r['status']:<8} {r['name']}  {r['flow']}"
        typer.echo(line)


def _when(seconds: float | None) -> str | None:
    """An epoch time as ``2026-01-31T12:00:00Z``."""
    import datetime as dt

    if seconds is None:
        return None
    moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="the run id")],
    json_out: JsonOpt = False,
    html_out: Annotated[
        bool, typer.Option("--html", help="a static HTML timeline of the run's steps")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="write the HTML here (default stdout)")
    ] = None,
) -> None:
    """A run's status, variables, step attempts (with idempotency keys) and outputs."""
    journal = _journal()
    try:
        record = journal.run(run_id)
        attempts = journal.attempts(run_id)
    finally:
        journal.close()
    if html_out or output is not None:
        _write_html(record, attempts, output)
        return
    body = {
        "run_id": record.run_id,
        "name": record.name,
        "flow": record.flow,
        "status": record.status,
        "vars": record.vars,
        "error": record.error,
        "outputs": record.outputs,
        "attempts": attempts,
    }
    if json_out:
        emit_json(body)
        return
    typer.echo(f"run {record.run_id} ({record.name}): {record.status}")
    typer.echo(f"flow: {record.flow}\nvars: {json.dumps(record.vars, default=str)}")
    if record.error:
        typer.echo(f"error: {record.error}")
    for a in attempts:
        line = f"  {a['step']:<20} attempt {a['attempt']}  {a['status']:<8} key {a['key']}"
        typer.echo(line + (f"  ({a['error']})" if a["error"] else ""))
    if record.outputs is not None:
        typer.echo("outputs: " + json.dumps(record.outputs, ensure_ascii=False, default=str))


def _write_html(record: Any, attempts: list[dict[str, Any]], output: Path | None) -> None:
    from autan.reports import automation_report

    page = automation_report(record, attempts)
    if output is None:
        typer.echo(page, nl=False)
        return
    try:
        output.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise UserInputError(
            f"cannot write {output}: {exc.strerror}", hint="choose a writable path with -o"
        ) from exc
    typer.echo(f"wrote {output}", err=True)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.command("run")(run)
    app.add_typer(runs_app, name="runs")

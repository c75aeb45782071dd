"""``autan serve`` and ``autan keys create|list|revoke``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from autan.cli._common import emit_json, settings_for

if TYPE_CHECKING:
    from autan.server.records import Records

keys_app = typer.Typer(help="API keys of 'autan serve' (stored hashed).", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def serve(
    host: Annotated[str | None, typer.Option("--host", help="address to bind")] = None,
    port: Annotated[int | None, typer.Option("--port", "-p", help="port (default 8700)")] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="the planner model spec")
    ] = None,
) -> None:
    """Serve the agent over HTTP: OpenAI-compatible API, threads and runs, search, a web page.

    Binds 127.0.0.1 unless --host says otherwise; any other address requires API keys.
    """
    from autan.server.app import serve as run_server

    settings = settings_for(model)
    run_server(settings, host or settings.server.host, port or settings.server.port)


def _records() -> Records:
    from autan.server.records import Records

    return Records(settings_for().data_dir)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="who or what the key is for")],
    json_out: JsonOpt = False,
) -> None:
    """Create a key; it is printed once and only its hash is stored."""
    records = _records()
    try:
        key_id, token = records.create_key(name)
    finally:
        records.close()
    if json_out:
        emit_json({"id": key_id, "name": name, "key": token})
        return
    typer.echo(token)
    typer.echo(f"key {key_id} ({name}) created; it is shown only now", err=True)


@keys_app.command("list")
def keys_list(json_out: JsonOpt = False) -> None:
    """Keys with their names and state (never the keys themselves)."""
    records = _records()
    try:
        keys = records.list_keys()
    finally:
        records.close()
    if json_out:
        emit_json({"keys": keys})
        return
    if not keys:
        typer.echo("no keys; create one with 'autan keys create NAME'", err=True)
    for k in keys:
        typer.echo(f"{k['id']}  {'revoked' if k['revoked'] else 'active ':<8} {k['name']}")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="the key id from 'keys list'")]) -> None:
    """Revoke a key; the server refuses it from the next request on."""
    records = _records()
    try:
        records.revoke_key(key_id)
    finally:
        records.close()
    typer.echo(f"revoked {key_id}")


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys")

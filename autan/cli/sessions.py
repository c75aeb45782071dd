"""``autan sessions list|show|delete``: named conversations kept in the checkpointer."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer

from autan.cli._common import YesOpt, confirm, emit_json, settings_for
from autan.errors import NotFoundError, UserInputError

PREFIX = "session:"
app = typer.Typer(help="Named, durable conversations (autan chat --session NAME).")
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def session_thread(name: str) -> str:
    """The checkpoint thread of a named session; names are short and plain."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise UserInputError(
            f"bad session name {name!r}", hint="use letters, digits, '.', '_' or '-' (max 64)"
        )
    return PREFIX + name


def _messages(saver: Any, name: str) -> list[Any]:
    thread = session_thread(name)
    found = saver.get_tuple({"configurable": {"thread_id": thread}})
    if found is None:
        raise NotFoundError(f"no session named {name!r}", hint="see 'autan sessions list'")
    return list(found.checkpoint["channel_values"].get("messages", []))


@app.command("list")
def list_sessions(json_out: JsonOpt = False) -> None:
    """Sessions, most recently used first."""
    from autan.memory.checkpoints import checkpointer, list_threads

    with checkpointer(settings_for()) as saver:
        rows = [
            {"name": t.removeprefix(PREFIX), "checkpoints": n}
            for t, n in list_threads(saver, PREFIX)
        ]
    if json_out:
        emit_json({"sessions": rows})
        return
    if not rows:
        typer.echo("no sessions yet; start one with: autan chat --session NAME", err=True)
    for r in rows:
        typer.echo(r["name"])


def _role(m: Any) -> str:
    if m.type == "system":
        return "summary"
    roles = {"human": "you", "ai": "autan", "tool": f"tool {m.name}"}
    return str(roles.get(m.type, m.type))


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="the session name")],
    json_out: JsonOpt = False,
) -> None:
    """A session's conversation: messages, tool calls and results."""
    from autan.memory.checkpoints import checkpointer

    with checkpointer(settings_for()) as saver:
        messages = _messages(saver, name)
    rows: list[dict[str, Any]] = [
        {
            "role": _role(m),
            "content": str(m.content),
            "tool_calls": [{"name": c["name"], "args": c["args"]} for c in m.tool_calls]
            if m.type == "ai"
            else [],
        }
        for m in messages
    ]
    if json_out:
        emit_json({"name": name, "messages": rows})
        return
    for r in rows:
        calls = ", ".join(f"{c['name']}({c['args']})" for c in r["tool_calls"])
        text = r["content"] if len(r["content"]) < 400 else r["content"][:399] + "…"
        typer.echo(f"{r['role']}: {text}" + (f" → {calls}" if calls else ""))


@app.command("delete")
def delete(
    name: Annotated[str, typer.Argument(help="the session name")], yes: YesOpt = False
) -> None:
    """Delete a session and its whole history (asks first; --yes skips asking)."""
    from autan.memory.checkpoints import checkpointer

    with checkpointer(settings_for()) as saver:
        _messages(saver, name)
        confirm(f"delete session {name!r} and its history", yes)
        saver.delete_thread(session_thread(name))
    typer.echo(f"deleted session {name!r}", err=True)


def register(root: typer.Typer) -> None:
    """Add this group's commands to the app."""
    root.add_typer(app, name="sessions")

"""``autan memory list|add|forget``: what the agent remembers about the user."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from autan.cli._common import YesOpt, confirm, emit_json, settings_for
from autan.errors import UserInputError

app = typer.Typer(help="Long-term memory: facts and preferences kept across sessions.")
JsonOpt = Annotated[bool, typer.Option("--json", help="print one JSON object")]
UserOpt = Annotated[
    str | None, typer.Option("--user", help="whose memories (default: memory.user)")
]


def _memory(user: str | None) -> Any:
    from autan.memory.long_term import LongTermMemory

    return LongTermMemory.from_settings(settings_for(), user)


@app.command("list")
def list_memories(user: UserOpt = None, json_out: JsonOpt = False) -> None:
    """Every memory, oldest first."""
    memory = _memory(user)
    try:
        items = [m.as_dict() for m in memory.entries()]
    finally:
        memory.close()
    if json_out:
        emit_json({"user": memory.user, "memories": items})
        return
    if not items:
        typer.echo(f"no memories for user {memory.user!r}", err=True)
    for m in items:
        typer.echo(f"{m['id']}  {m['kind']:<10} {m['text']}")


@app.command("add")
def add(
    text: Annotated[str, typer.Argument(help="the fact or preference")],
    kind: Annotated[str, typer.Option(help="fact or preference")] = "fact",
    user: UserOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Remember something by hand (duplicates are recognised and kept once)."""
    if kind not in ("fact", "preference"):
        raise UserInputError(f"--kind must be fact or preference, not {kind!r}")
    memory = _memory(user)
    try:
        kept = memory.remember(text, kind)  # type: ignore[arg-type]
    finally:
        memory.close()
    if json_out:
        emit_json({"memory": kept.as_dict(), "duplicate": kept.duplicate})
        return
    note = " (already remembered)" if kept.duplicate else ""
    typer.echo(f"{kept.id}  {kept.text}{note}")


@app.command("forget")
def forget(
    memory_id: Annotated[str | None, typer.Argument(help="the id shown by 'memory list'")] = None,
    all_: Annotated[bool, typer.Option("--all", help="forget every memory of the user")] = False,
    user: UserOpt = None,
    yes: YesOpt = False,
) -> None:
    """Forget one memory by id, or all of them (--all asks first; --yes skips asking)."""
    if (memory_id is None) == (not all_):
        raise UserInputError("give a memory id or --all (not both)")
    memory = _memory(user)
    try:
        if all_:
            confirm(f"forget all {len(memory.entries())} memories of user {memory.user!r}", yes)
            n = memory.forget_all()
            typer.echo(f"forgot {n} memories of user {memory.user!r}", err=True)
        else:
            memory.forget(memory_id)
            typer.echo(f"forgot {memory_id}", err=True)
    finally:
        memory.close()


def register(root: typer.Typer) -> None:
    """Add this group's commands to the app."""
    root.add_typer(app, name="memory")

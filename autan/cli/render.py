"""How a turn looks in the terminal: streamed tokens, tool steps, guard notices, sources."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from autan.api import Event

err = Console(stderr=True, highlight=False)


def _short(value: Any, limit: int = 160) -> str:
    """Data shortened for one line, escaped so Rich shows ``[i]`` instead of reading markup."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def print_sources(sources: Iterable[dict[str, Any]]) -> None:
    """The numbered sources list of a cited answer."""
    items = list(sources)
    if not items:
        return
    typer.echo("\nSources:")
    for s in items:
        where = s.get("source") or s.get("url") or ""
        heading = " › ".join(s.get("heading_path") or []) or s.get("title") or ""
        typer.echo(f"  [{s['id']}] {where}" + (f" — {heading}" if heading else ""))


def render(events: Iterable[Event]) -> dict[str, Any] | None:
    """Show events as they arrive; returns the interrupt payload if the run paused."""
    streamed = False
    pending: dict[str, Any] | None = None
    for e in events:
        if e.kind == "token":
            sys.stdout.write(e.data["text"])
            sys.stdout.flush()
            streamed = True
        elif e.kind == "tool_call":
            if streamed:
                typer.echo()
                streamed = False
            err.print(f"[cyan]→ {e.data['name']}[/cyan] {_short(e.data['args'])}")
        elif e.kind == "tool_result":
            result = e.data["result"]
            mark = "[green]✓[/green]" if result.get("ok") else "[red]✗[/red]"
            shown = {k: v for k, v in result.items() if k not in ("ok", "error")}
            err.print(f"{mark} {e.data['name']}: {_short(result.get('error') or shown)}")
        elif e.kind == "guard":
            reasons = "; ".join(e.data.get("reasons") or [])
            head = f"{e.data['stage']} {e.data['action']} by {e.data['rail']}"
            err.print(f"[yellow]⚑ {head}[/yellow] {escape(reasons)}")
        elif e.kind == "interrupt":
            pending = e.data
        elif e.kind == "answer":
            if e.data.get("revised"):
                typer.echo()
                err.print("[yellow]⚑ the output guard revised the answer; final answer:[/yellow]")
            if not e.data.get("streamed") or e.data.get("revised"):
                typer.echo(e.data["text"], nl=False)
            typer.echo()
            print_sources(e.data.get("sources") or [])
    return pending


def show_preview(shown: dict[str, Any] | None) -> None:
    """Print the diff an editing call would make (or why it could not be computed)."""
    if not shown:
        return
    if shown.get("error"):
        err.print(f"[yellow]this call would fail as things stand:[/yellow] {shown['error']}")
        return
    for line in str(shown.get("diff", "")).splitlines():
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
        err.print(f"[{style}]{escape(line)}[/{style}]" if style else escape(line))


def ask_human(payload: dict[str, Any]) -> Any:
    """Turn an interrupt into a decision at the terminal (approve / deny / edit)."""
    if payload.get("type") == "approval" and payload.get("calls"):
        decisions: dict[str, Any] = {}
        for call in payload.get("calls", []):
            show_preview(call.get("preview"))
            err.print(f"[bold]Approve[/bold] {call['name']} {_short(call['args'], 400)}?")
            choice = typer.prompt("approve / deny / edit", default="deny").strip().lower()
            if choice.startswith("e"):
                raw = typer.prompt("new arguments (JSON)")
                decisions[call["id"]] = {"decision": "edit", "args": json.loads(raw)}
            else:
                decisions[call["id"]] = {
                    "decision": "approve" if choice.startswith("a") else "deny"
                }
        return decisions
    if payload.get("type") == "approval" or "message" in payload:
        err.print(f"[bold]Approve step {payload.get('step')}[/bold]: {payload.get('message')}")
        choice = typer.prompt("approve / deny", default="deny").strip().lower()
        return {"decision": "approve" if choice.startswith("a") else "deny"}
    err.print(
        f"[bold]A guard asks for review[/bold]: {payload.get('stage')} flagged by "
        f"{payload.get('rail')} ({'; '.join(payload.get('reasons') or [])})"
    )
    choice = typer.prompt("approve / deny", default="deny").strip().lower()
    return {"decision": "approve" if choice.startswith("a") else "deny"}

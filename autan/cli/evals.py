"""``autan eval injection``: the worst-case injection harness over AgentDojo's suites.

The command joins the shared ``eval`` group (``autan eval guards``, ``autan eval retrieval``...)
and imports AgentDojo and the agent graph only when it runs.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from autan.cli._common import emit_json, settings_for, shared_group
from autan.errors import UserInputError
from autan.evals import LAYERS, SUITES


def _split(values: list[str] | None, default: tuple[str, ...], what: str) -> list[str]:
    """Repeated or comma-separated option values, in order, without duplicates."""
    out: list[str] = []
    for value in values or []:
        for item in value.split(","):
            if item.strip() and item.strip() not in out:
                out.append(item.strip())
    if values and not out:  # given, but blank: not a silent "all"
        raise UserInputError(f"{what} is empty", hint=f"use one of {', '.join(default)}")
    return out or list(default)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def table(report: dict[str, Any]) -> str:
    """The report as a plain-text table, one row per suite and setup."""
    head = (
        "suite",
        "setup",
        "pairs",
        "ASR",
        "utility",
        "if approved",
        "utility under attack",
        "escalations",
    )
    rows = [head]
    for suite, cells in report["suites"].items():
        for layer, c in cells.items():
            rows.append(
                (
                    suite,
                    layer,
                    str(c["pairs"]),
                    _pct(c["asr"]),
                    _pct(c["utility"]),
                    _pct(c["utility_if_approved"]),
                    _pct(c["utility_under_attack"]),
                    str(c["escalations"]),
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    title = f"{report['benchmark']}, attack {report['attack']}, planner obeys every injection"
    return "\n".join([title, *lines])


def explain(report: dict[str, Any]) -> str:
    """Why each user task (run without an attack) asked a human, per suite and setup."""
    lines = []
    for suite, cells in report["suites"].items():
        for layer, c in cells.items():
            if c["asked"]:
                lines.append(f"{suite} / {layer}: {len(c['asked'])} questions without an attack")
                lines += [f"  {why}" for why in c["asked"]]
    return "\n".join(lines or ["no user task asked a human without an attack"])


def eval_injection(
    suite: Annotated[
        list[str] | None,
        typer.Option("--suite", help="workspace|travel|banking|slack (repeat or comma-separate)"),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="at most N task pairs per suite (fixed sample)")
    ] = None,
    attack: Annotated[
        str, typer.Option("--attack", help="AgentDojo attack template")
    ] = "important_instructions",
    layers: Annotated[
        list[str] | None,
        typer.Option("--layers", help="none,detection,capability,all (repeat or comma-separate)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    show_asked: Annotated[
        bool,
        typer.Option("--explain", help="list why each user task asked a human, without attack"),
    ] = False,
) -> None:
    """Attack success rate and utility per AgentDojo suite, undefended vs each defence layer."""
    from autan.evals.injection import check_choices, evaluate

    suites, setups = _split(suite, SUITES, "--suite"), _split(layers, LAYERS, "--layers")
    check_choices(suites, setups, limit)

    def progress(name: str, done: int, total: int) -> None:
        if done == total or done % 25 == 0:
            typer.echo(f"{name}: {done}/{total} tasks", err=True)

    report = evaluate(suites, setups, attack, limit, settings_for(), progress).to_dict()
    if as_json:
        emit_json(report)
    else:
        typer.echo(table(report))
    if show_asked and not as_json:
        typer.echo(explain(report))


def register(app: typer.Typer) -> None:
    """Add ``injection`` to the shared ``eval`` group."""
    group = shared_group(app, "eval", "Measure components on labelled data.")
    group.command("injection")(eval_injection)

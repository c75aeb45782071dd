"""``autan guard check|policy`` and ``autan eval guards``: rails outside any agent."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from autan.cli._common import emit_json, read_text_arg, settings_for
from autan.errors import UserInputError

guard_app = typer.Typer(help="Check text against the guard policy.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure components on labelled data.", no_args_is_help=True)
STAGES = ("input", "tool_output", "output", "code", "url", "path")


@guard_app.command("check")
def check(
    stage: Annotated[str, typer.Option("--stage", help="input|tool_output|output|code|url|path")],
    text: Annotated[str | None, typer.Option("--text", help="the text to check")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="read the text from a file")] = None,
    policy: Annotated[Path | None, typer.Option("--policy", help="policy YAML")] = None,
) -> None:
    """Print the verdict JSON: {"allowed", "action", "rail", "reasons", "text"}."""
    from autan.guards.policy import runner_from_settings

    if stage not in STAGES:
        raise UserInputError(f"unknown stage {stage!r}", hint=f"use one of {', '.join(STAGES)}")
    body = read_text_arg(text, file)
    overrides: dict[str, Any] = {"guards": {"policy": policy}} if policy else {}
    settings = settings_for(None, **overrides)
    verdict = runner_from_settings(settings).check(body, stage, {"run_id": "cli"})  # type: ignore[arg-type]
    emit_json(verdict.to_dict())


@guard_app.command("policy")
def show_policy(
    show: Annotated[bool, typer.Option("--show", help="print the policy in force")] = True,
    policy: Annotated[Path | None, typer.Option("--policy", help="policy YAML")] = None,
) -> None:
    """Validate and print the policy in force (the shipped default unless configured)."""
    from autan.guards.policy import build_runner, parse_policy, policy_text

    path = policy or settings_for().guards.policy
    text, source = policy_text(path)
    build_runner(parse_policy(text, source), source)
    if show:
        typer.echo(f"# {source}")
        typer.echo(text.rstrip())


def _rows(data: Path) -> list[dict[str, Any]]:
    if not data.is_file():
        raise UserInputError(f"file not found: {data}", hint="check --data")
    rows = []
    try:
        lines = data.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise UserInputError(f"{data} is not UTF-8 text", hint="give a JSON Lines file") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if row["label"] not in (0, 1) or not isinstance(row["text"], str):
                raise ValueError(row["label"])
            rows.append({**row, "label": int(row["label"])})
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise UserInputError(
                f"{data}:{n}: each line must be a JSON object with text and label (0/1)"
            ) from None
    return rows


def evaluate(rows: list[dict[str, Any]], runner: Any) -> dict[str, dict[str, float]]:
    """Precision, recall, F1, false-positive rate and p50 latency of each rail on its rows."""
    by_rail: dict[str, list[tuple[int, int, float]]] = {}
    for row in rows:
        name = row.get("rail", "injection")
        stage = row.get("stage") or ("code" if name == "code_safety" else "input")
        rail = next((r for rs in runner.rails.values() for r in rs if r.name == name), None)
        if rail is None:
            raise UserInputError(
                f"rail {name!r} is not in the policy",
                hint="add it to the policy's stages, or use the default policy",
            )
        start = time.perf_counter()
        v = rail.check(row["text"], stage, {"citations": row.get("citations") or []})
        ms = (time.perf_counter() - start) * 1000
        by_rail.setdefault(name, []).append((row["label"], int(v.action != "allow"), ms))
    return {name: _metrics(results) for name, results in by_rail.items()}


def _metrics(results: list[tuple[int, int, float]]) -> dict[str, float]:
    tp = sum(1 for y, p, _ in results if y and p)
    fp = sum(1 for y, p, _ in results if not y and p)
    fn = sum(1 for y, p, _ in results if y and not p)
    neg = sum(1 for y, _, _ in results if not y)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": len(results),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "fpr": round(fp / neg, 4) if neg else 0.0,
        "p50_ms": round(statistics.median(ms for _, _, ms in results), 3),
    }


@eval_app.command("guards")
def eval_guards(
    data: Annotated[
        Path, typer.Option("--data", help="JSONL: text, label (1 = should flag), rail")
    ],
    policy: Annotated[Path | None, typer.Option("--policy", help="policy YAML")] = None,
) -> None:
    """Per-rail precision, recall, F1, FPR and p50 latency as one JSON object."""
    from autan.guards.policy import runner_from_settings

    settings = settings_for(guards={"policy": policy, "audit": False})
    emit_json({"rails": evaluate(_rows(data), runner_from_settings(settings))})


def register(app: typer.Typer) -> None:
    """Add ``guard`` and (or into an existing) ``eval`` group."""
    app.add_typer(guard_app, name="guard")
    existing = next((g for g in app.registered_groups if g.name == "eval"), None)
    if existing is not None and existing.typer_instance is not None:
        existing.typer_instance.command("guards")(eval_guards)
    else:
        app.add_typer(eval_app, name="eval")

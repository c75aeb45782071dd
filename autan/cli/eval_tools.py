"""``autan eval tools``: tool-calling accuracy of a model on BFCL's data and checker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from autan.cli._common import emit_json, settings_for, shared_group
from autan.errors import UserInputError

MODES = {"both": (True, False), "constrained": (True,), "free": (False,)}


def _categories(text: str) -> list[str]:
    from autan.agents.tool_eval import CATEGORIES

    names = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in names if c not in CATEGORIES]
    if unknown or not names:
        raise UserInputError(
            f"unknown category {unknown[0]!r}" if unknown else "no category given",
            hint=f"--category takes a comma-separated list of {', '.join(CATEGORIES)}",
        )
    return names


def _settings(spec: str, mode: str, max_new_tokens: int) -> dict[str, Any]:
    """Each decoding mode's settings: constrained (the grammar) and free (no grammar at all)."""
    if mode not in MODES:
        raise UserInputError(f"unknown --mode {mode!r}", hint="use both, constrained or free")
    out = {}
    for constrained in MODES[mode]:
        settings = settings_for(spec)
        settings.model.constrained = constrained
        settings.model.force_calls = constrained  # free means no grammar at all
        settings.model.max_new_tokens = max_new_tokens
        out["constrained" if constrained else "free"] = settings
    return out


def _scores(
    spec: str,
    settings: dict[str, Any],
    cats: dict[str, Any],
    tool_choice: str | None,
    workers: int | None,
) -> list[Any]:
    """Every mode on every category, in this process or on worker processes."""
    from rich.console import Console
    from rich.progress import Progress

    from autan.agents.eval_pool import auto_workers, evaluate_parallel, usable_cpus
    from autan.agents.models.spec import load_model
    from autan.agents.tool_eval import evaluate

    total = sum(len(v) for v in cats.values()) * len(settings)
    count = auto_workers(spec, next(iter(settings.values())))
    if workers is not None and spec.startswith("local:"):  # other models answer elsewhere
        count = min(workers, usable_cpus())
    count = min(count, total) or 1
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("BFCL", total=total)
        step = lambda: bar.advance(task)  # noqa: E731 - one tick per case
        if count > 1:
            return evaluate_parallel(
                spec, settings, cats, workers=count, choice=tool_choice, progress=step
            )
        models = {name: load_model(spec, s) for name, s in settings.items()}
        return [
            evaluate(chat, cases, name, tool_choice, step)
            for name, chat in models.items()
            for cases in cats.values()
        ]


def eval_tools(
    model: Annotated[str, typer.Option("--model", "-m", help="the model spec to measure")],
    category: Annotated[
        str, typer.Option("--category", help="comma-separated BFCL categories")
    ] = "simple,multiple,parallel,irrelevance",
    mode: Annotated[str, typer.Option("--mode", help="both, constrained or free")] = "both",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="cases per category")] = None,
    tool_choice: Annotated[
        str | None,
        typer.Option("--tool-choice", help="auto or any (default: any, irrelevance auto)"),
    ] = None,
    max_new_tokens: Annotated[
        int, typer.Option("--max-new-tokens", min=16, help="reply budget per case")
    ] = 160,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="processes for a local: model, at most one per core (default: one per core "
            "for a small model on the CPU)",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="also write the JSON here")] = None,
) -> None:
    """BFCL accuracy per category, constrained vs free decoding, with BFCL's own AST checker."""
    from autan.agents.tool_eval import load_cases, markdown

    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        raise UserInputError(
            f"--out {out} is not a file in an existing folder", hint="give a file path"
        )
    if tool_choice not in (None, "auto", "any"):
        raise UserInputError(f"unknown --tool-choice {tool_choice!r}", hint="use auto or any")
    cats = {c: load_cases(c, limit) for c in _categories(category)}
    settings = _settings(model, mode, max_new_tokens)
    scores = _scores(model, settings, cats, tool_choice, workers)
    body = {"model": model, "limit": limit, "scores": [s.as_dict() for s in scores]}
    if out is not None:
        out.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    if json_out:
        emit_json(body)
    else:
        typer.echo(markdown(model, scores))


def register(app: typer.Typer) -> None:
    """Add ``eval tools`` to the shared ``eval`` group."""
    shared_group(app, "eval", "Measure retrieval, guards, tool calling.").command("tools")(
        eval_tools
    )

"""The Typer app, assembled from one module per command group.

Group modules import only typer and autan's light modules at import time, so ``autan --help``
never loads torch, transformers or qdrant. ``autan.cli.app.main`` is the entry point and the
error boundary; it loads this module only for what ``autan.cli.fast`` does not answer.
"""

from __future__ import annotations

import importlib
import sys

import typer

GROUPS = (
    "core",
    "tools",
    "retrieval",
    "web",
    "guards",
    "workflows",
    "sessions",
    "memory",
    "serve",
    "mcp",
    "evals",
    "eval_tools",
)

app = typer.Typer(
    name="autan",
    help="autan: a LangGraph agent with a local Mistral planner, retrieval, a code sandbox, "
    "safe web tools and guardrails.  Add --debug anywhere for tracebacks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_groups() -> None:
    for name in GROUPS:
        module_name = f"autan.cli.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # that command group is not part of this build
            raise
        module.register(app)


_register_groups()


def run(args: list[str]) -> int:
    """Run the Typer app on ``args``; its own exits become exit codes, other errors propagate."""
    try:
        result = app(args=args, prog_name="autan", standalone_mode=False)
        return int(result) if isinstance(result, int) else 0
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("error: aborted\n")
        return 130

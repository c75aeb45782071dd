"""``autan tool list`` and ``autan tool run``: every tool, outside any agent."""

from __future__ import annotations

from typing import Annotated

import typer

from autan.cli._common import emit_json, parse_json_object, settings_for

# Failure types that mean "fix your input" (exit 2); any other failure is a runtime one (exit 1).
INPUT_ERRORS = frozenset(
    {
        "UserInputError",
        "NotFoundError",
        "InvalidArguments",
        "SecurityViolation",
        "PolicyRefusal",
        "ConfigError",
    }
)

tool_app = typer.Typer(help="List tools and run one outside any agent.", no_args_is_help=True)


@tool_app.command("list")
def list_tools(
    json_out: Annotated[bool, typer.Option("--json", help="name, description and schema")] = False,
) -> None:
    """List every tool the planner can call."""
    from autan.tools.registry import ToolRegistry

    registry = ToolRegistry.configured(settings_for())
    if json_out:
        emit_json({"tools": registry.schemas()})
        return
    for schema in registry.schemas():
        first = (schema["description"] or "").strip().splitlines()[0:1]
        typer.echo(f"{schema['name']:<14} {first[0] if first else ''}")


@tool_app.command("run")
def run_tool(
    name: Annotated[str, typer.Argument(help="tool name, see 'autan tool list'")],
    args: Annotated[str, typer.Option("--args", help="arguments as a JSON object")] = "{}",
) -> None:
    """Run one tool and print exactly one JSON object: {"ok": ..., "error": ...}."""
    from autan.tools.registry import ToolRegistry

    arguments = parse_json_object(args, "--args")
    with ToolRegistry.configured(settings_for(), [name]) as registry:
        result = registry.run(name, arguments)
    emit_json(result)
    if not result.get("ok"):
        kind = (result.get("error") or {}).get("type")
        raise typer.Exit(2 if kind in INPUT_ERRORS else 1)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the app."""
    app.add_typer(tool_app, name="tool")

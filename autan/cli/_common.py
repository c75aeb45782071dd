"""Helpers every command group shares: settings with CLI overrides, JSON output, file input."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from autan.cli.output import emit_json as emit_json
from autan.errors import UserInputError

if TYPE_CHECKING:
    from autan.config import Settings


def settings_for(model: str | None = None, **sections: Any) -> Settings:
    """Settings from file and environment, with ``--model`` and other CLI flags on top."""
    from autan.config import load_settings

    settings = load_settings()
    if model is not None:
        if not model.strip():
            raise UserInputError(
                "--model is empty", hint="pass scripted:builtin, local:<path> or openai:<url>#<m>"
            )
        settings = settings.model_copy(
            update={"model": settings.model.model_copy(update={"spec": model})}
        )
    for name, values in sections.items():
        section = getattr(settings, name)
        settings = settings.model_copy(update={name: section.model_copy(update=values)})
    return settings


def server_client(*local_only: str | None) -> Any:
    """A client of ``AUTAN_SERVER_URL``, or of an ``autan serve`` running on this data dir.

    ``local_only`` are options that choose a local agent: with a configured server they are an
    error; with a discovered one the command simply runs locally.
    """
    from autan.server.client import ServerClient, discover

    settings = settings_for()
    url = settings.server_url
    if not url:
        found = discover(settings.data_dir)
        if found is None or any(v is not None for v in local_only):
            return None
        return ServerClient(found, settings.api_key)
    if any(v is not None for v in local_only):
        raise UserInputError(
            "--model and --tools choose a local agent, but AUTAN_SERVER_URL is set",
            hint="drop the option (the server runs its own agent), or unset AUTAN_SERVER_URL",
        )
    return ServerClient(url, settings.api_key)


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    """Parse a JSON object given on the command line; errors say which option was wrong."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserInputError(
            f"{what} is not valid JSON: {exc.msg} at column {exc.colno}",
            hint=f"""pass a JSON object, e.g. {what} '{{"key": "value"}}'""",
        ) from None
    if not isinstance(value, dict):
        raise UserInputError(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def read_text_arg(text: str | None, file: Path | None, what: str = "--text") -> str:
    """The text of ``--text`` or ``--file`` (``-`` reads stdin); exactly one must be given."""
    if (text is None) == (file is None):
        raise UserInputError(f"give exactly one of {what} or --file")
    if text is not None:
        return text
    assert file is not None
    if str(file) == "-":
        return sys.stdin.read()
    if not file.is_file():
        raise UserInputError(f"file not found: {file}", hint="check the path")
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserInputError(f"{file} is not UTF-8 text") from None


YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")]


def confirm(question: str, yes: bool) -> None:
    """Ask before destroying data; without a terminal refuse unless ``--yes`` was given."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UserInputError(
            f"refusing to {question} without confirmation (no terminal to ask at)",
            hint="add --yes to confirm",
        )
    typer.confirm(f"{question}?", abort=True)


def shared_group(app: Any, name: str, help: str) -> Any:
    """The sub-command group ``name`` of ``app``, created on first use.

    Several command modules add commands to one group (``autan eval retrieval`` and
    ``autan eval guards``); each calls this instead of ``app.add_typer``.
    """
    import typer

    for info in app.registered_groups:
        if info.name == name:
            return info.typer_instance
    group = typer.Typer(help=help, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group

"""``autan fetch URL``: one page through the SSRF-safe fetcher, as text or one JSON object."""

from __future__ import annotations

from typing import Annotated

import typer

from autan.cli._common import emit_json, settings_for
from autan.cli.tools import INPUT_ERRORS


def fetch(
    url: Annotated[str, typer.Argument(help="a public http(s) URL")],
    json_out: Annotated[bool, typer.Option("--json", help="print the tool result as JSON")] = False,
    max_chars: Annotated[int, typer.Option("--max-chars", help="cap on extracted text")] = 20_000,
    max_links: Annotated[int, typer.Option("--max-links", help="cap on links listed")] = 20,
) -> None:
    """Fetch a web page or PDF and print its title, main text and links."""
    from autan.tools.web.tools import WebTools

    result = WebTools(settings_for()).fetch_url(url, max_chars=max_chars, max_links=max_links)
    error = result.get("error") or {}
    if json_out:
        emit_json(result)
    elif error:
        typer.echo(f"error: {error.get('message')}", err=True)
    else:
        typer.echo(f"# {result['title'] or '(untitled)'}\n{result['final_url']}\n")
        typer.echo(result["text"])
        if result["links"]:
            typer.echo("\nLinks:")
            for link in result["links"]:
                typer.echo(f"  {link['url']}" + (f"  {link['text']}" if link["text"] else ""))
    if error:
        raise typer.Exit(2 if error.get("type") in INPUT_ERRORS else 1)


def register(app: typer.Typer) -> None:
    """Add ``autan fetch``."""
    app.command("fetch")(fetch)

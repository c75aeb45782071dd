"""The start-up fast path: ``autan search`` through a running server, without Typer or pydantic.

A search through ``autan serve`` is one HTTP request; loading Typer, pydantic-settings and
httpx would cost several times the request. ``remote_search`` answers only the plain cases it
can judge exactly like the full CLI (settings from the environment alone, options it knows) and
returns ``None`` for everything else, which the full CLI then handles. The output and the
errors are the full CLI's own: both print through ``show_search`` and the same server client.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autan.cli.output import echo, emit_json
from autan.errors import UserInputError
from autan.settings_check import OTHER_VARIABLES, check_data_dir, default_data_dir

# What settings the fast path reads itself; any other AUTAN_* name (or a config file) needs
# pydantic's validation, so the full CLI handles that invocation.
_READS = ("AUTAN_SERVER_URL", "AUTAN_API_KEY", "AUTAN_DATA_DIR")
_HARMLESS = frozenset((*_READS, *OTHER_VARIABLES)) - {"AUTAN_CONFIG"}
_VALUED = {"--collection": "collection", "-c": "collection", "-k": "k", "--filter": "filters",
           "--mode": "mode"}  # fmt: skip
FILTER_HINT = "use key=value with source, path, tag, after or before"


@dataclass
class SearchArgs:
    """The options of ``autan search``."""

    query: str
    collection: str | None = None
    k: int = 5
    filters: list[str] = field(default_factory=list)
    mode: str = "hybrid"
    json_out: bool = False


def remote_search(args: list[str]) -> int | None:
    """Run ``autan search`` through the server if that is what ``args`` ask; else ``None``."""
    if not args or args[0] != "search" or (parsed := parse_search(args[1:])) is None:
        return None
    check_query(parsed.query)
    target = server_target(os.environ)
    if target is None:
        return None
    from autan.server.client import ServerClient

    found = ServerClient(*target).post("/v1/search", search_body(parsed))
    show_search(found, parsed.json_out)
    return 0


def parse_search(args: list[str]) -> SearchArgs | None:
    """The options of a plain search; ``None`` for anything unusual (help, repeats, odd values)."""
    values: dict[str, Any] = {"filters": []}
    positional: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "--":
            positional.extend(rest)
        elif arg == "--json":
            values["json_out"] = True
        elif arg == "-" or not arg.startswith("-"):
            positional.append(arg)
        elif (option := _option(arg, rest)) is None:
            return None
        elif option[0] == "filters":
            values["filters"].append(option[1])
        elif option[0] in values:
            return None  # a repeated option: the full CLI decides which one wins
        else:
            values[option[0]] = option[1]
    if len(positional) != 1 or not re.fullmatch(r"[0-9]+", values.get("k", "5")):
        return None
    return SearchArgs(positional[0], **{**values, "k": int(values.get("k", "5"))})


def _option(arg: str, rest: Iterator[str]) -> tuple[str, str] | None:
    """(field, value) of an option that takes a value: ``-k 3``, ``-k3``, ``--mode=dense``."""
    attached: str | None
    if arg.startswith("--"):
        name, eq, after = arg.partition("=")
        attached = after if eq else None
    else:
        name, attached = arg[:2], arg[2:] or None
    if name not in _VALUED:
        return None
    value = attached if attached is not None else next(rest, None)
    if value is None or (attached is None and value.startswith("-")):
        return None
    return _VALUED[name], value


def check_query(query: str) -> None:
    """Refuse an empty query before anything is loaded or sent."""
    if not query.strip():
        raise UserInputError("the query is empty", hint="give a question or some keywords")


def server_target(environ: Mapping[str, str]) -> tuple[str, str | None] | None:
    """(URL, key) of the server a search goes to, if the environment alone decides it.

    ``None`` when there is no server, or when the full settings must be validated first (a
    config file, or any other ``AUTAN_*`` variable).
    """
    if any(k.upper().startswith("AUTAN_") and k not in _HARMLESS for k in environ):
        return None
    if Path("autan.toml").is_file() or not environ.get("AUTAN_DATA_DIR", "x").strip():
        return None
    data_dir = Path(environ["AUTAN_DATA_DIR"]) if "AUTAN_DATA_DIR" in environ else None
    data_dir = data_dir or default_data_dir()
    check_data_dir(data_dir)
    key = environ.get("AUTAN_API_KEY")
    if url := environ.get("AUTAN_SERVER_URL"):
        return url, key
    from autan.server.client import discover

    found = discover(data_dir)
    return None if found is None else (found, key)


def search_body(parsed: SearchArgs) -> dict[str, Any]:
    """The JSON body of ``POST /v1/search``."""
    return {"query": parsed.query, "collection": parsed.collection, "k": parsed.k,
            "mode": parsed.mode, "filters": filters(parsed.filters)}  # fmt: skip


def filters(pairs: list[str]) -> dict[str, Any]:
    """``--filter key=value`` pairs as the search filter (paths resolved, tags collected)."""
    aliases = {"path": "path_prefix", "tag": "tags", "prefix": "path_prefix"}
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not value:
            raise UserInputError(f"bad --filter {pair!r}", hint=FILTER_HINT)
        if key.strip() not in (*aliases, *aliases.values(), "source", "after", "before"):
            raise UserInputError(f"unknown --filter key {key.strip()!r}", hint=FILTER_HINT)
        key = aliases.get(key.strip(), key.strip())
        if key == "path_prefix":
            value = Path(value).expanduser().resolve().as_posix()
        if key == "tags":
            values.setdefault("tags", []).append(value)
        else:
            values[key] = value
    return values


def show_search(found: dict[str, Any], json_out: bool) -> None:
    """Print a search result: the JSON as is, or numbered passages with their sources."""
    if json_out:
        emit_json(found)
        return
    if not found["citations"]:
        echo("no matching passages")
    for c in found["citations"]:
        heading = " › ".join(c["heading_path"]) or c["title"]
        echo(f"[{c['id']}] {c['source']}:{c['start']}-{c['end']} — {heading}  ({c['score']:.4f})")
        snippet = " ".join(c["text"].split())
        echo(f"    {snippet[:300]}{'…' if len(snippet) > 300 else ''}")

"""``ask``, ``search``, ``ingest`` and ``run`` through the server ``AUTAN_SERVER_URL`` names.

Output is the same as the local commands print; only where the work happens differs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from autan.cli._common import emit_json
from autan.errors import UserInputError

if TYPE_CHECKING:
    from autan.api import Event
    from autan.server.client import ServerClient


def ask(client: ServerClient, question: str, thread: str | None, json_out: bool) -> None:
    """One agent turn on the server, rendered like a local one."""
    from autan.cli.render import ask_human, render

    thread_id = thread or client.post("/v1/threads", {})["thread_id"]
    if json_out:
        run = client.post(f"/v1/threads/{thread_id}/runs", {"input": question})
        if run["status"] == "interrupted":
            raise UserInputError("the run needs a human decision; run without --json")
        steps = [{k: v for k, v in s.items() if k != "kind"} for s in run["steps"]]
        emit_json({"answer": run["answer"], "sources": run["sources"], "thread_id": thread_id,
                   "verdicts": run["verdicts"], "steps": steps})  # fmt: skip
        return
    record: dict[str, Any] = {}
    path, body = f"/v1/threads/{thread_id}/runs", {"input": question}
    while True:
        pending = render(_events(client, path, body, record))
        if pending is None or not sys.stdin.isatty():
            break
        path, body = f"/v1/runs/{record['run_id']}/resume", {"decision": ask_human(pending)}
    if record.get("status") == "failed":
        raise UserInputError(f"the run failed on the server: {record.get('error')}")


def _events(
    client: ServerClient, path: str, body: dict[str, Any], record: dict[str, Any]
) -> Iterator[Event]:
    for item in client.stream_events(path, body):
        if isinstance(item, dict):
            record.update(item)
        else:
            yield item


def search(client: ServerClient, body: dict[str, Any]) -> dict[str, Any]:
    """A search on the server; the same JSON the local command prints."""
    return client.post("/v1/search", body)


def ingest(
    client: ServerClient, paths: list[Path], collection: str | None, tags: list[str], key: bool
) -> dict[str, Any]:
    """Index files on the server: paths for the server's own user, uploads for a key holder."""
    body: dict[str, Any] = {"collection": collection, "tags": tags}
    if key:
        body["files"] = client.upload(paths)
    else:
        for p in paths:
            if not p.exists():
                raise UserInputError(f"no such file or directory: {p}", hint="check the path")
        body["paths"] = [str(p.resolve()) for p in paths]
    report = client.post("/v1/ingest", body)
    report.pop("ok", None)
    report.pop("error", None)
    return report


def run(client: ServerClient, flow: Path, values: dict[str, Any], resume: str | None,
        decision: str | None) -> dict[str, Any]:  # fmt: skip
    """Start (or resume) the server's automation named like the flow file."""
    if resume is not None:
        return client.post(f"/v1/automations/runs/{resume}/resume", {"decision": decision})
    name = flow.name.removesuffix(".yaml").removesuffix(".yml")
    return client.post(f"/v1/automations/{name}/runs", {"vars": values})


def show_run(result: dict[str, Any], json_out: bool, flow: Path) -> None:
    """Print an automation run like ``autan run`` does."""
    from types import SimpleNamespace

    from autan.cli.workflows import _show_result

    _show_result(SimpleNamespace(**result), json_out, flow)


def echo_server(client: ServerClient) -> None:
    """Say, on stderr, which server does the work."""
    typer.echo(f"(via {client.url})", err=True)

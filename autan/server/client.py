"""The CLI's side of the wire: ``ask``, ``search``, ``ingest`` and ``run`` through a server.

Set ``AUTAN_SERVER_URL`` (and ``AUTAN_API_KEY`` where the server needs keys); the CLI then
loads no model and opens no store: the server that already holds them answers.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autan.errors import (
    AutanError,
    BackendError,
    ConfigError,
    NotFoundError,
    SecurityViolation,
    UserInputError,
)

_BY_STATUS: dict[int, type[AutanError]] = {
    400: UserInputError,
    401: ConfigError,
    403: SecurityViolation,
    404: NotFoundError,
    413: UserInputError,
    429: BackendError,
}
if TYPE_CHECKING:
    from autan.api import Event

TEXT_LIMIT = 2_000_000  # files over this are skipped, like the local loaders' own limits


RUNNING = "server.json"  # written by ``autan serve`` in its data dir while it runs


def announce(data_dir: Path, url: str) -> Path:
    """Record that this process serves ``url`` for ``data_dir`` (found by the CLI)."""
    path = Path(data_dir) / RUNNING
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": os.getpid(), "url": url}), encoding="utf-8")
    return path


def discover(data_dir: Path) -> str | None:
    """The URL of a live ``autan serve`` on this data dir, if one announced itself."""
    try:
        note = json.loads((Path(data_dir) / RUNNING).read_text(encoding="utf-8"))
        os.kill(int(note["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    url = str(note["url"])
    return url if url.startswith("http://127.0.0.1:") else None


class ServerClient:
    """A small client that turns the server's JSON errors back into autan errors.

    Plain requests use the standard library (a CLI search through a server must start fast);
    httpx is imported only to stream a run's events.
    """

    def __init__(self, url: str, key: str | None = None, timeout: float = 600.0) -> None:
        self.url = url.rstrip("/")
        self.keyed = bool(key)
        self.headers = {"authorization": f"Bearer {key}"} if key else {}
        self.timeout = timeout
        self._stream_client: Any = None

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST JSON; the decoded answer, or the server's error as an autan error."""
        return self._request("POST", path, json.dumps(body).encode("utf-8"))

    def get(self, path: str) -> dict[str, Any]:
        """GET JSON."""
        return self._request("GET", path, None)

    def _request(self, method: str, path: str, payload: bytes | None) -> dict[str, Any]:
        conn, prefix = self._connection()
        headers = {**self.headers, "accept": "application/json"}
        if payload is not None:
            headers["content-type"] = "application/json"
        try:
            conn.request(method, prefix + path, body=payload, headers=headers)
            response = conn.getresponse()
            status, raw = response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise BackendError(
                f"cannot reach the autan server at {self.url}: {exc}",
                hint="start it with 'autan serve', or unset AUTAN_SERVER_URL",
            ) from None
        finally:
            conn.close()
        if status >= 400:
            raise error_for(status, raw)
        try:
            data: dict[str, Any] = json.loads(raw)
        except ValueError:
            raise BackendError(
                f"the autan server at {self.url} sent no JSON (HTTP {status})"
            ) from None
        return data

    def _connection(self) -> tuple[http.client.HTTPConnection, str]:
        """A fresh connection to the server and the URL's own path prefix."""
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"the server URL {self.url!r} is not an http:// or https:// address",
                hint="set AUTAN_SERVER_URL like http://127.0.0.1:8700",
            )
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        try:
            conn = kind(parts.hostname, parts.port, timeout=self.timeout)
        except ValueError as exc:  # a port that is not a number
            raise ConfigError(f"bad server URL {self.url!r}: {exc}") from None
        return conn, parts.path.rstrip("/")

    def stream_events(self, path: str, body: dict[str, Any]) -> Iterator[Event | dict[str, Any]]:
        """The SSE events of a streamed run as ``Event``s; the final run record as a dict."""
        import httpx

        from autan.api import Event

        if self._stream_client is None:
            self._stream_client = httpx.Client(
                base_url=self.url, headers=self.headers, timeout=self.timeout
            )
        try:
            with self._stream_client.stream(
                "POST", path, json={**body, "stream": True}
            ) as response:
                if response.status_code >= 400:
                    raise error_for(response.status_code, response.read())
                kind = "message"
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        kind = line.removeprefix("event: ")
                    elif line.startswith("data: "):
                        data = json.loads(line.removeprefix("data: "))
                        yield data if kind == "end" else Event(kind, data)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise BackendError(f"the autan server at {self.url} failed: {exc}") from None

    def upload(self, paths: list[Path]) -> list[dict[str, str]]:
        """Files under ``paths`` as uploads (text as is, other files base64)."""
        files = []
        for root in paths:
            if not root.exists():
                raise UserInputError(f"no such file or directory: {root}", hint="check the path")
            found = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
            for path in found:
                inner = () if root.is_file() else path.relative_to(root).parts
                if path.stat().st_size > TEXT_LIMIT or any(p.startswith(".") for p in inner):
                    continue
                rel = path.name if root.is_file() else "/".join((root.resolve().name, *inner))
                data = path.read_bytes()
                try:
                    files.append({"path": rel, "content": data.decode("utf-8")})
                except UnicodeDecodeError:
                    files.append({"path": rel, "content_b64": base64.b64encode(data).decode()})
        return files

    def close(self) -> None:
        """Release the streaming client's connections, if a stream opened any."""
        if self._stream_client is not None:
            self._stream_client.close()


def error_for(status: int, raw: bytes) -> AutanError:
    """The autan error for a server's error answer (its JSON ``error.message``)."""
    try:
        message = str(json.loads(raw)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = f"HTTP {status}"
    kind = _BY_STATUS.get(status, BackendError)
    if status == 401:
        return kind(f"the server refused the key: {message}", hint="set AUTAN_API_KEY")
    return kind(f"server: {message}")

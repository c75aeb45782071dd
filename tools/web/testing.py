"""Fakes for testing the web tools for real: loopback servers, a resolver, a recording backend.

``LoopbackServer`` binds 127.0.0.1 or ::1 only. It records every accepted connection, so a server
standing in for a forbidden target can prove that nothing reached it.
"""

from __future__ import annotations

import http.server
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpcore

from autan.tools.web.addresses import IPAddress


@dataclass
class Reply:
    """What a route answers: status, headers and a body (bytes, or chunks streamed unsized)."""

    status: int = 200
    body: bytes | Callable[[], Iterable[bytes]] = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html"})
    delay_s: float = 0.0


@dataclass(frozen=True)
class Seen:
    """One request a server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Route = Reply | Callable[[Seen], Reply]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
        owner = self.server.owner
        owner.requests.append(seen)
        with owner.lock:
            owner.active += 1
            owner.max_active = max(owner.max_active, owner.active)
        try:
            self._reply(owner.reply_for(seen))
        finally:
            with owner.lock:
                owner.active -= 1

    do_GET = do_POST = do_HEAD = _serve

    def _reply(self, reply: Reply) -> None:
        if reply.delay_s:
            time.sleep(reply.delay_s)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if isinstance(reply.body, bytes):
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            return
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for chunk in reply.body():
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Stay quiet."""


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackServer

    def get_request(self) -> tuple[socket.socket, Any]:
        conn = super().get_request()
        self.owner.connections += 1
        return conn


class LoopbackServer:
    """An HTTP server on a loopback address answering from a route table; records all traffic."""

    def __init__(
        self,
        routes: dict[str, Route] | None = None,
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError("LoopbackServer binds loopback addresses only")
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[Seen] = []
        self.sni: list[str | None] = []
        self.connections = self.active = self.max_active = 0
        self.lock = threading.Lock()
        server_class = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
        cls = server_class if ":" in host else _Server
        self._server = cls((host, 0), _Handler)
        self._server.owner = self
        if tls is not None:
            tls.sni_callback = lambda sock, name, ctx: self.sni.append(name)  # type: ignore[assignment]
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.host, self.port = host, int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def origin(self) -> str:
        """``http(s)://host:port`` of this server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if isinstance(self._server.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://{host}:{self.port}"

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on this server."""
        return self.origin + path

    def reply_for(self, seen: Seen) -> Reply:
        """The route's reply; 404 for unknown paths."""
        route = self.routes.get(seen.path.split("?", 1)[0])
        if route is None:
            return Reply(404, b"not found", {"Content-Type": "text/plain"})
        return route(seen) if callable(route) else route

    def paths(self) -> list[str]:
        """Paths requested so far, in order."""
        return [r.path for r in self.requests]

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ScriptedResolver:
    """A resolver answering from a script: each lookup of a host takes its next answer."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self._answers = {host: list(seq) for host, seq in answers.items()}
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        """The next scripted answer for ``host`` (the last one repeats)."""
        self.lookups.append(host)
        script = self._answers.get(host)
        if not script:
            from autan.errors import HostNotResolved

            raise HostNotResolved(host, "unknown to the scripted resolver")
        answer = script.pop(0) if len(script) > 1 else script[0]
        return [ipaddress.ip_address(a) for a in answer]


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """The real network backend, recording every (address, port) it is asked to connect to."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.connects: list[tuple[str, int]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Record, then connect."""
        self.connects.append((host, port))
        return await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)

    async def sleep(self, seconds: float) -> None:
        """Delegate."""
        await self.inner.sleep(seconds)


def chunks(total: int, size: int = 65536) -> Callable[[], Iterator[bytes]]:
    """A body of ``total`` bytes streamed in ``size`` chunks with no Content-Length."""

    def gen() -> Iterator[bytes]:
        sent = 0
        while sent < total:
            part = min(size, total - sent)
            sent += part
            yield b"x" * part

    return gen

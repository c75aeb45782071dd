"""An httpx transport that resolves each host once, judges every address, and pins the connection.

``SafeTransport`` re-parses the request URL strictly, resolves the host through an injectable
resolver, refuses when *any* address is forbidden, and only then lets httpcore connect — to the
pinned address, through ``PinnedBackend``, so no second DNS lookup can rebind the name. The URL
keeps the host name, so the Host header and TLS SNI (and certificate checks) use the name.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextvars import ContextVar
from typing import Any

import certifi
import httpcore
import httpx

from autan.errors import HostNotResolved
from autan.tools.web.addresses import AddressPolicy, IPAddress
from autan.tools.web.urls import parse_url, redirect_target

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

# (host, port, address) this task may connect to; set by SafeTransport around one request.
_PIN: ContextVar[tuple[str, int, str] | None] = ContextVar("autan_web_pin", default=None)

REDIRECTS = frozenset({301, 302, 303, 307, 308})

_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.NetworkError, httpx.NetworkError),
)


def _map_error(exc: Exception, request: httpx.Request) -> Exception:
    for core, mapped in _ERRORS:
        if isinstance(exc, core):
            return mapped(str(exc) or type(exc).__name__, request=request)
    return exc


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for ``host`` (one lookup)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise HostNotResolved(host, exc.strerror or "") from None
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0])) for info in infos))


@functools.lru_cache(maxsize=1)
def default_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context (certifi roots) for the process; building one costs ~10 ms."""
    return ssl.create_default_context(cafile=certifi.where())


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to the address pinned for this request's host; there is no other path."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend | None = None):
        self._policy = policy
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Open a TCP stream to the pinned address of ``host:port``."""
        pin = _PIN.get()
        if pin is None or pin[:2] != (host, port):
            raise httpcore.ConnectError(f"no vetted address for {host}:{port}; refusing")
        address = pin[2]
        if self._policy.rule_for(ipaddress.ip_address(address), port) is not None:
            raise httpcore.ConnectError(f"address {address} is forbidden; refusing")
        return await self._inner.connect_tcp(
            address, port, timeout=timeout, local_address=local_address,
            socket_options=socket_options,
        )  # fmt: skip

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        """Unix sockets are never reachable from the web tools."""
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        """Delegate to the wrapped backend."""
        await self._inner.sleep(seconds)


class _Body(httpx.AsyncByteStream):
    def __init__(self, stream: Any, request: httpx.Request) -> None:
        self._stream, self._request = stream, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for part in self._stream:
                yield part
        except Exception as exc:  # noqa: BLE001 - mapped to the httpx error of the same kind
            raise _map_error(exc, self._request) from exc

    async def aclose(self) -> None:
        if hasattr(self._stream, "aclose"):
            await self._stream.aclose()


class SafeTransport(httpx.AsyncBaseTransport):
    """httpx transport for untrusted URLs: strict parse, one lookup, all addresses vetted."""

    def __init__(
        self,
        policy: AddressPolicy | None = None,
        resolver: Resolver | None = None,
        *,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy or AddressPolicy()
        self._resolve = resolver or system_resolver
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or default_ssl_context(),
            max_connections=64,
            max_keepalive_connections=16,
            keepalive_expiry=5.0,
            network_backend=PinnedBackend(self.policy, network_backend),
        )

    async def vet(self, url: str) -> tuple[str, int, IPAddress]:
        """Parse ``url``, resolve its host once and check every address; the one to pin."""
        target = parse_url(url)
        found = (
            [target.ip] if target.ip is not None else await self._resolve(target.host, target.port)
        )
        self.policy.check(target.host, target.port, found)
        return target.host, target.port, found[0]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` over a connection to the vetted, pinned address."""
        host, port, address = await self.vet(str(request.url))
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme, host=host.encode("ascii"), port=port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,  # type: ignore[arg-type]
            extensions=request.extensions,
        )  # fmt: skip
        token = _PIN.set((host, port, str(address)))
        try:
            response = await self._pool.handle_async_request(core)
        except Exception as exc:  # noqa: BLE001 - mapped to the httpx error of the same kind
            raise _map_error(exc, request) from exc
        finally:
            _PIN.reset(token)
        await self._vet_location(str(request.url), response)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream, request),
            extensions={**response.extensions, "autan_address": str(address)},
        )

    async def _vet_location(self, url: str, response: httpcore.Response) -> None:
        """Refuse a redirect to a forbidden hop before httpx parses ``Location`` its own way."""
        if response.status not in REDIRECTS:
            return
        raw = next((v for k, v in response.headers if k.lower() == b"location"), None)
        if raw is None:
            return
        try:
            hop = redirect_target(url, raw.decode("latin-1"))
            if hop.ip is not None:
                self.policy.check(hop.host, hop.port, [hop.ip])
        except BaseException:
            await response.aclose()
            raise

    async def aclose(self) -> None:
        """Close pooled connections."""
        await self._pool.aclose()

"""Resource limits of a fetch: per-host pacing, a capped streaming body, content types, retries.

The body is decoded here rather than by httpx so that gzip/deflate output is bounded while it is
produced (``decompress(..., max_length)``): a decompression bomb stops at the cap, never in memory.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from autan.errors import BackendError, SecurityViolation

ALLOWED_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "text/plain",
        "text/markdown",
        "text/csv",
        "text/xml",
        "application/xml",
        "application/json",
        "application/pdf",
    }
)
# Rules about a response's size or type (as opposed to where it comes from).
LIMIT_RULES = frozenset({"content-type", "max-bytes", "decompression-bomb"})
ACCEPT = "text/html,application/xhtml+xml,application/pdf,text/plain;q=0.9,*/*;q=0.1"
ACCEPT_ENCODING = "gzip, deflate"


def media_type(content_type: str) -> str:
    """``text/html; charset=x`` → ``text/html``."""
    return content_type.split(";", 1)[0].strip().lower()


def check_content_type(content_type: str, url: str) -> str:
    """The media type when it is on the allow-list (HTML, text, JSON, XML, PDF); else refuse."""
    kind = media_type(content_type)
    if not kind or kind in ALLOWED_TYPES or kind.endswith(("+json", "+xml")):
        return kind
    raise SecurityViolation(
        f"{url} is {kind}, which the web tools do not read (rule: content-type)",
        rule="content-type",
        hint="fetch_url reads HTML, text, JSON, XML and PDF",
    )


def _too_big(url: str, limit: int, rule: str, what: str) -> SecurityViolation:
    return SecurityViolation(
        f"{url}: {what} exceeds the {limit}-byte cap (rule: {rule})",
        rule=rule,
        hint="raise web.max_bytes if this page is really needed",
    )


class _Inflater:
    """zlib/gzip decoding whose output never exceeds ``limit`` bytes, however it is compressed."""

    def __init__(self, limit: int, url: str) -> None:
        self._d = zlib.decompressobj(zlib.MAX_WBITS | 32)
        self._limit, self._url = limit, url

    def feed(self, data: bytes, out: bytearray) -> None:
        while data and not self._d.eof:
            try:
                out += self._d.decompress(data, self._limit - len(out) + 1)
            except zlib.error as exc:
                raise BackendError(f"{self._url}: corrupt compressed body ({exc})") from None
            if len(out) > self._limit:
                raise _too_big(self._url, self._limit, "decompression-bomb", "decoded body")
            data = self._d.unconsumed_tail


async def read_body(response: httpx.Response, limit: int, url: str) -> bytes:
    """Stream the body, refusing past ``limit`` raw or decoded bytes."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_big(url, limit, "max-bytes", f"declared length {declared}")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise BackendError(f"{url}: unsupported content-encoding {encoding!r}")
    inflater = None if encoding in ("identity", "") else _Inflater(limit, url)
    out, received = bytearray(), 0
    async for chunk in response.aiter_raw():
        received += len(chunk)
        if received > limit:
            raise _too_big(url, limit, "max-bytes", "body")
        if inflater is None:
            out += chunk
        else:
            inflater.feed(chunk, out)
    return bytes(out)


def retry_wait(response: httpx.Response, attempt: int, max_wait: float) -> float | None:
    """Seconds to wait before retrying a 429/503 (Retry-After wins); None if too long to wait."""
    header = response.headers.get("retry-after", "").strip()
    wait = min(0.5 * 2**attempt, max_wait)
    if header.isdigit():
        wait = float(header)
    elif header:
        try:
            when = parsedate_to_datetime(header)
            wait = max(0.0, (when - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            pass
    return wait if wait <= max_wait else None


class HostLimiter:
    """At most ``concurrency`` requests in flight and ``rate`` request starts per second, per host.

    Bound to the event loop it is first used in (one fetcher serves one loop).
    """

    def __init__(self, concurrency: int, rate_per_s: float) -> None:
        self._concurrency = max(1, concurrency)
        self._interval = 1.0 / rate_per_s if rate_per_s > 0 else 0.0
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._next: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold one of ``host``'s slots, started no sooner than its pace allows."""
        semaphore = self._slots.setdefault(host, asyncio.Semaphore(self._concurrency))
        async with semaphore:
            now = asyncio.get_running_loop().time()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + self._interval
            if start > now:
                await asyncio.sleep(start - now)
            yield

"""``WebFetcher``: the async fetch pipeline every web tool goes through.

strict parse → robots.txt → cache → per-host slot → request over ``SafeTransport`` (retries on
429/503) → manual redirects, each hop parsed and vetted again (at most ``max_redirects``) →
content-type allow-list → capped, bomb-safe body → cache. Failures raise ``AutanError``s.
"""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path

import httpcore
import httpx

from autan.config import WebSettings
from autan.errors import (
    AutanError,
    BackendError,
    BackendTimeout,
    HostNotResolved,
    SecurityViolation,
)
from autan.tools.web.addresses import AddressPolicy
from autan.tools.web.cache import Page, PageCache
from autan.tools.web.limits import (
    ACCEPT,
    ACCEPT_ENCODING,
    LIMIT_RULES,
    HostLimiter,
    check_content_type,
    read_body,
    retry_wait,
)
from autan.tools.web.robots import RobotsRules
from autan.tools.web.transport import REDIRECTS, Resolver, SafeTransport
from autan.tools.web.urls import Target, parse_url, redirect_target

_ROBOTS_MAX_BYTES = 500_000


def policy_for(web: WebSettings) -> AddressPolicy:
    """The address policy ``web`` asks for (the loopback hole exists only in settings)."""
    return AddressPolicy(loopback_ports=frozenset(web.test_allow_loopback_ports))


class WebFetcher:
    """Fetches untrusted URLs safely; one instance serves one event loop."""

    def __init__(
        self,
        web: WebSettings,
        *,
        cache_dir: Path | None = None,
        resolver: Resolver | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.web = web
        self.transport = SafeTransport(
            policy_for(web), resolver, network_backend=network_backend, ssl_context=ssl_context
        )
        self._client = httpx.AsyncClient(
            transport=self.transport,
            follow_redirects=False,
            trust_env=False,  # an environment proxy would bypass the vetted transport
            timeout=httpx.Timeout(web.read_timeout_s, connect=web.connect_timeout_s),
            headers={
                "User-Agent": web.user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            cookies=_no_cookies(),  # anonymous: a page's cookie never rides a later fetch
        )
        self._limiter = HostLimiter(web.per_host_concurrency, web.per_host_rate_per_s)
        self._cache = PageCache(cache_dir, web.cache_ttl_s) if cache_dir else None
        self._robots = RobotsRules(web.user_agent, web.cache_ttl_s, self._get_robots)

    async def fetch(self, url: str) -> Page:
        """The page at ``url`` (any status), within the total time limit."""
        target = parse_url(url)
        try:
            async with asyncio.timeout(self.web.timeout_s):
                return await self._fetch(target)
        except TimeoutError:
            raise BackendTimeout(f"{url} did not answer within {self.web.timeout_s:g} s") from None

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def _fetch(self, target: Target) -> Page:
        if target.ip is not None:  # no lookup needed: refuse before even the cache answers
            self.transport.policy.check(target.host, target.port, [target.ip])
        cached = self._cache.get(target.url) if self._cache else None
        if cached is not None and self._cache is not None and self._cache.fresh(cached):
            return cached
        validators = self._cache.revalidation_headers(cached) if self._cache else {}
        page = await self._follow(target, validators, self.web.max_bytes, robots=True)
        if page.status == 304 and cached is not None and self._cache is not None:
            return self._cache.put(cached)
        if page.status == 200 and self._cache is not None and page.storable:
            return self._cache.put(page)
        return page

    async def _follow(
        self, target: Target, headers: dict[str, str], limit: int, *, robots: bool
    ) -> Page:
        start, seen = target, [target.url]
        for _ in range(self.web.max_redirects + 1):
            if robots and self.web.respect_robots:
                await self._robots.check(target)
            async with self._limiter.slot(target.host):
                response = await self._send(target, headers)
                try:
                    location = response.headers.get("location")
                    if response.status_code not in REDIRECTS or not location:
                        return await self._page(start, target, response, limit)
                finally:
                    await response.aclose()
            target = redirect_target(target.url, location)
            if target.url in seen:
                raise BackendError(f"redirect loop at {target.url} (from {start.url})")
            seen.append(target.url)
            headers = {}
        raise BackendError(f"{start.url} redirected more than {self.web.max_redirects} times")

    async def _send(self, target: Target, headers: dict[str, str]) -> httpx.Response:
        for attempt in range(self.web.max_retries + 1):
            try:
                request = self._client.build_request("GET", target.url, headers=headers)
                response = await self._client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise BackendTimeout(f"{target.url}: {type(exc).__name__}") from None
            except httpx.HTTPError as exc:
                raise BackendError(f"cannot fetch {target.url}: {exc}") from None
            if response.status_code not in (429, 503) or attempt == self.web.max_retries:
                return response
            wait = retry_wait(response, attempt, self.web.retry_max_wait_s)
            if wait is None:
                return response
            await response.aclose()
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _page(
        self, start: Target, target: Target, response: httpx.Response, limit: int
    ) -> Page:
        content_type = response.headers.get("content-type", "")
        body = b""
        if 200 <= response.status_code < 300:
            check_content_type(content_type, target.url)
            body = await read_body(response, limit, target.url)
        return Page(
            url=start.url,
            final_url=target.url,
            status=response.status_code,
            content_type=content_type,
            body=body,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            etag=response.headers.get("etag", ""),
            last_modified=response.headers.get("last-modified", ""),
            storable="no-store" not in response.headers.get("cache-control", "").lower(),
        )

    async def _get_robots(self, site: Target) -> tuple[int, str]:
        target = parse_url(f"{site.origin}/robots.txt")
        try:
            page = await self._follow(target, {}, _ROBOTS_MAX_BYTES, robots=False)
        except SecurityViolation as exc:
            if exc.rule in LIMIT_RULES:
                return 404, ""  # an odd robots.txt is no robots.txt; a forbidden host stays so
            raise
        except HostNotResolved:
            raise  # the page cannot be fetched either; say why, not "robots.txt disallows"
        except BackendError as exc:  # the site cannot be reached: the page could not be either
            raise BackendError(
                f"cannot reach {site.origin}: {exc.message}",
                hint="check the network connection and the URL",
            ) from None
        except AutanError:
            return 599, ""
        return page.status, page.body.decode("utf-8", errors="replace")


def _no_cookies() -> CookieJar:
    """A cookie jar that keeps nothing: every fetch is anonymous (docs/security.md)."""
    return CookieJar(DefaultCookiePolicy(allowed_domains=[]))

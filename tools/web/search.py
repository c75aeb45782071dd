"""Web search behind one Protocol: SearXNG (self-hosted JSON API), Brave Search API, Tavily.

Providers are chosen and configured by the operator (settings/env), never by tool arguments, so
their endpoints are not put through the SSRF policy: a self-hosted SearXNG on a private address is
the normal case. Results are normalised to title/url/snippet and deduplicated by URL.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx

from autan.config import WebSettings
from autan.errors import BackendError, BackendTimeout, ConfigError

HOW_TO_CONFIGURE = (
    "set AUTAN_WEB__SEARXNG_URL=http://your-searxng:8080 (JSON format enabled), "
    "or AUTAN_WEB__BRAVE_API_KEY=..., or AUTAN_WEB__TAVILY_API_KEY=... "
    "(or the same keys under [web] in autan.toml); see docs/web.md"
)
_TAGS = re.compile(r"<[^>]{0,200}>")


@dataclass(frozen=True)
class SearchHit:
    """One normalised result."""

    title: str
    url: str
    snippet: str


class SearchProvider(Protocol):
    """A search API: one query in, normalised hits out."""

    @property
    def name(self) -> str:
        """Short provider name shown in results."""
        ...

    async def search(self, client: httpx.AsyncClient, query: str, k: int) -> list[SearchHit]:
        """Up to ``k`` hits for ``query``."""
        ...


def _json(response: httpx.Response, provider: str) -> dict[str, Any]:
    if response.status_code in (401, 403):
        raise ConfigError(
            f"{provider} refused the request (HTTP {response.status_code})",
            hint="check the API key / instance settings",
        )
    if response.status_code >= 400:
        raise BackendError(f"{provider} answered HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        raise BackendError(f"{provider} did not answer JSON") from None
    if not isinstance(data, dict):
        raise BackendError(f"{provider} answered JSON that is not an object")
    return data


def _plain(value: Any) -> str:
    """Text without the <strong> highlighting some APIs put in titles and snippets."""
    return " ".join(html.unescape(_TAGS.sub("", str(value or ""))).split())


def _hits(items: Any, snippet_key: str) -> list[SearchHit]:
    hits = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            title, snippet = _plain(item.get("title")), _plain(item.get(snippet_key))
            hits.append(SearchHit(title, item["url"], snippet))
    return hits


@dataclass(frozen=True)
class Searxng:
    """SearXNG ``/search?format=json`` (the instance must enable the json format)."""

    base_url: str
    name: str = "searxng"

    async def search(self, client: httpx.AsyncClient, query: str, k: int) -> list[SearchHit]:
        """Query the instance."""
        url = self.base_url.rstrip("/") + "/search"
        response = await client.get(url, params={"q": query, "format": "json"})
        return _hits(_json(response, self.name).get("results"), "content")[:k]


@dataclass(frozen=True)
class Brave:
    """Brave Search API ``/res/v1/web/search`` with an ``X-Subscription-Token``."""

    url: str
    api_key: str
    name: str = "brave"

    async def search(self, client: httpx.AsyncClient, query: str, k: int) -> list[SearchHit]:
        """Query Brave."""
        headers = {"X-Subscription-Token": self.api_key, "Accept": "application/json"}
        response = await client.get(
            self.url, params={"q": query, "count": min(k, 20)}, headers=headers
        )
        web = _json(response, self.name).get("web") or {}
        return _hits(web.get("results"), "description")[:k]


@dataclass(frozen=True)
class Tavily:
    """Tavily ``POST /search`` with a bearer key."""

    url: str
    api_key: str
    name: str = "tavily"

    async def search(self, client: httpx.AsyncClient, query: str, k: int) -> list[SearchHit]:
        """Query Tavily."""
        response = await client.post(
            self.url,
            json={"query": query, "max_results": k, "search_depth": "basic"},
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        return _hits(_json(response, self.name).get("results"), "content")[:k]


def provider_from(web: WebSettings) -> SearchProvider | None:
    """The configured provider: the named one, else SearXNG, Brave, Tavily in that order."""
    name = web.search_provider
    if name == "none":
        return None
    if name in (None, "searxng") and web.searxng_url:
        return Searxng(web.searxng_url)
    if name in (None, "brave") and web.brave_api_key:
        return Brave(web.brave_url, web.brave_api_key)
    if name in (None, "tavily") and web.tavily_api_key:
        return Tavily(web.tavily_url, web.tavily_api_key)
    if name is not None:
        raise ConfigError(f"search provider {name!r} is selected but not configured")
    return None


def dedupe(hits: list[SearchHit]) -> list[SearchHit]:
    """First hit per URL, URLs compared without fragment, trailing slash or host case."""
    seen: set[str] = set()
    unique = []
    for hit in hits:
        parts = urlsplit(hit.url)
        key = urlunsplit(
            (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, "")
        )
        if key not in seen:
            seen.add(key)
            unique.append(hit)
    return unique


async def run_search(web: WebSettings, query: str, k: int) -> tuple[str, list[SearchHit]]:
    """The provider's name and its deduplicated hits for ``query``."""
    provider = provider_from(web)
    if provider is None:
        raise ConfigError("no web search provider is configured", hint=HOW_TO_CONFIGURE)
    timeout = httpx.Timeout(web.timeout_s, connect=web.connect_timeout_s)
    async with httpx.AsyncClient(timeout=timeout, headers={"User-Agent": web.user_agent}) as c:
        try:
            hits = await provider.search(c, query, k)
        except httpx.TimeoutException:
            raise BackendTimeout(f"{provider.name} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise BackendError(f"{provider.name} request failed: {exc}") from None
    return provider.name, dedupe(hits)

"""The ``fetch_url`` and ``web_search`` tools, built by ``make_fetch_url``/``make_web_search``.

Both report failures as data (``ok: false`` with the error type, and the policy ``rule`` when the
network policy refused), so the planner can read why and try something else.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import httpcore
from langchain_core.tools import BaseTool

from autan.config import Settings
from autan.errors import AutanError, PolicyRefusal, SecurityViolation, UserInputError
from autan.tools.base import ToolResult, fail, make_tool, ok
from autan.tools.spec import Effect, Trust, declare
from autan.tools.web.cache import Page
from autan.tools.web.extract import extract
from autan.tools.web.fetch import WebFetcher
from autan.tools.web.runner import WEB_LOOP
from autan.tools.web.search import run_search
from autan.tools.web.transport import Resolver

MAX_SEARCH_RESULTS = 20


def failure(exc: AutanError, **fields: Any) -> ToolResult:
    """An ``ok: false`` result for ``exc``, carrying the policy rule when there is one."""
    if isinstance(exc, SecurityViolation | PolicyRefusal) and exc.rule:
        fields["rule"] = exc.rule
    return fail(type(exc).__name__, exc.one_line(), **fields)


# Field-level provenance (tools/fields.py): where the page came from is structure; its title,
# text and links are whatever the page's author wrote. A redirect's final URL is the server's.
PAGE_STRUCTURE = [
    *("url", "final_url", "status", "content_type", "fetched_at"),
    *("citations.key", "citations.url"),
]


def page_result(page: Page, max_chars: int, max_links: int) -> ToolResult:
    """The tool result for a fetched page: extracted text, title, links and a citation."""
    where = {"url": page.url, "final_url": page.final_url, "status": page.status}
    if page.status >= 400 or page.status < 200:
        return fail("BackendError", f"HTTP {page.status} from {page.final_url}", **where)
    content = extract(page.body, page.content_type, page.final_url)
    text = content.text[:max_chars]
    return ok(
        **where,
        title=content.title,
        text=text,
        truncated=len(content.text) > max_chars,
        links=content.links[:max_links],
        content_type=page.content_type.split(";")[0].strip(),
        fetched_at=page.fetched_at,
        from_cache=page.from_cache,
        citations=[
            {"key": page.final_url, "title": content.title, "url": page.final_url,
             "text": text[:1000]},
        ],
    )  # fmt: skip


class WebTools:
    """The web tools of one Settings; I/O runs on the process-wide web loop."""

    def __init__(
        self,
        settings: Settings,
        *,
        resolver: Resolver | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.web = settings.web
        self._cache_dir = settings.data_dir / "web-cache"
        self._resolver, self._backend = resolver, network_backend

    @functools.cached_property
    def fetcher(self) -> WebFetcher:
        """Built on first use: listing tools should not open TLS contexts or pools."""
        return WebFetcher(
            self.web,
            cache_dir=self._cache_dir,
            resolver=self._resolver,
            network_backend=self._backend,
        )

    def _limits(self, max_chars: int, max_links: int) -> tuple[int, int]:
        return max(1, min(max_chars, self.web.max_text_chars)), max(0, min(max_links, 100))

    def fetch_url(self, url: str, max_chars: int = 8000, max_links: int = 20) -> ToolResult:
        """Fetch a public web page or PDF and return its main text, title and links.

        Args:
            url: An http or https URL on the public internet.
            max_chars: Return at most this many characters of extracted text.
            max_links: Return at most this many links found on the page.
        """
        try:
            page = WEB_LOOP.run(self.fetcher.fetch(url))
            return page_result(page, *self._limits(max_chars, max_links))
        except AutanError as exc:
            return failure(exc, url=url)

    async def afetch_url(self, url: str, max_chars: int = 8000, max_links: int = 20) -> ToolResult:
        """Async ``fetch_url``: I/O on the web loop, extraction on a worker thread."""
        try:
            page = await WEB_LOOP.arun(self.fetcher.fetch(url))
            return await asyncio.to_thread(page_result, page, *self._limits(max_chars, max_links))
        except AutanError as exc:
            return failure(exc, url=url)

    async def _search(self, query: str, k: int) -> ToolResult:
        if not query.strip():
            raise UserInputError("the search query is empty")
        k = max(1, min(k, MAX_SEARCH_RESULTS))
        provider, hits = await run_search(self.web, query, k)
        results = [{"title": h.title, "url": h.url, "snippet": h.snippet} for h in hits]
        citations = [
            {"key": h.url, "title": h.title, "url": h.url, "text": h.snippet} for h in hits
        ]
        return ok(query=query, provider=provider, results=results, citations=citations)

    def web_search(self, query: str, k: int = 5) -> ToolResult:
        """Search the web and return result titles, URLs and snippets.

        Args:
            query: What to search for.
            k: How many results to return (1-20).
        """
        try:
            return WEB_LOOP.run(self._search(query, k))
        except AutanError as exc:
            return failure(exc, query=query)

    async def aweb_search(self, query: str, k: int = 5) -> ToolResult:
        """Async ``web_search``."""
        try:
            return await WEB_LOOP.arun(self._search(query, k))
        except AutanError as exc:
            return failure(exc, query=query)


def make_fetch_url(settings: Settings) -> BaseTool:
    """The fetch_url tool for ``settings``."""
    tools = WebTools(settings)
    return declare(
        make_tool(tools.fetch_url, name="fetch_url", coroutine=tools.afetch_url),
        effect=Effect.EGRESS,
        output_trust=Trust.UNTRUSTED,
        args={"url": "url"},
        structure=PAGE_STRUCTURE,
        public_read=True,  # no cookies, credentials or user headers; public addresses only
    )


def make_web_search(settings: Settings) -> BaseTool:
    """The web_search tool for ``settings``."""
    tools = WebTools(settings)
    return declare(
        make_tool(tools.web_search, name="web_search", coroutine=tools.aweb_search),
        effect=Effect.EGRESS,
        output_trust=Trust.UNTRUSTED,
        structure=["query", "provider"],  # result titles, snippets and URLs: whoever ranks
    )

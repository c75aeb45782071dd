"""The fetch pipeline against loopback servers: extraction, charset, PDF, cache, retries, robots,
limits. Real sockets, real trafilatura and pypdf; no mocks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from autan.errors import BackendError, BackendTimeout, PolicyRefusal, SecurityViolation
from autan.tools.web.extract import extract
from autan.tools.web.testing import LoopbackServer, Reply
from autan.tools.web.tools import page_result
from tests.support.pdf import one_page_pdf

ARTICLE = """<!doctype html><html><head><title>Tidal Energy Notes</title></head><body>
<nav><a href="/">Home</a> <a href="/about">About us</a></nav>
<div class="cookie-banner">We use cookies. Accept all cookies to continue.</div>
<article><h1>How tidal turbines work</h1>
<p>Tidal turbines convert the kinetic energy of moving water into electricity, much like wind
turbines do with air, but water is eight hundred times denser than air.</p>
<h2>Advantages</h2><ul><li>Tides are predictable years ahead</li><li>High energy density</li></ul>
<p>See the <a href="https://example.org/tides#top">tide tables</a> and
<a href="2.html">part two</a> for details on site selection and grid connection.</p>
</article><footer>© 2024 Example Corp. All rights reserved. <a href="/privacy">Privacy</a></footer>
</body></html>"""


async def test_article_yields_title_clean_text_and_absolute_links(
    origin: LoopbackServer, make_fetcher: Any
) -> None:
    origin.routes["/notes/1.html"] = Reply(200, ARTICLE.encode())
    page = await make_fetcher().fetch(origin.url("/notes/1.html"))
    result = page_result(page, max_chars=5000, max_links=10)
    assert result["ok"] and result["title"] == "Tidal Energy Notes"
    text = result["text"]
    assert "# How tidal turbines work" in text and "## Advantages" in text
    assert "- Tides are predictable years ahead" in text
    assert "cookies" not in text and "All rights reserved" not in text
    urls = [link["url"] for link in result["links"]]
    assert "https://example.org/tides" in urls and origin.url("/notes/2.html") in urls
    assert result["citations"][0]["key"] == origin.url("/notes/1.html")
    assert origin.requests[0].headers["User-Agent"].startswith("autan/")


def test_charset_from_header_and_meta_and_json_pretty_print() -> None:
    latin = "<html><body><p>Crème brûlée à la française, naïve façade</p></body></html>"
    assert (
        "Crème brûlée"
        in extract(latin.encode("cp1252"), "text/html; charset=windows-1252", "http://x/").text
    )
    meta = '<html><head><meta charset="iso-8859-15"></head><body><p>Prix: 5 €</p></body></html>'
    assert "5 €" in extract(meta.encode("iso-8859-15"), "text/html", "http://x/").text
    assert (
        extract(b'{"a": [1, 2]}', "application/json", "http://x/").text
        == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    )


async def test_pdf_text_and_title_come_through_pypdf(
    origin: LoopbackServer, make_fetcher: Any
) -> None:
    pdf = one_page_pdf("Hello from a PDF about tides", "Tide Report", font_size=18)
    origin.routes["/report.pdf"] = Reply(200, pdf, {"Content-Type": "application/pdf"})
    result = page_result(await make_fetcher().fetch(origin.url("/report.pdf")), 1000, 10)
    assert result["ok"] and result["title"] == "Tide Report"
    assert "Hello from a PDF about tides" in result["text"]


async def test_content_type_outside_the_allow_list_is_refused_unread(
    origin: LoopbackServer, make_fetcher: Any
) -> None:
    origin.routes["/img"] = Reply(200, b"\x89PNG" * 10, {"Content-Type": "image/png"})
    with pytest.raises(SecurityViolation) as caught:
        await make_fetcher().fetch(origin.url("/img"))
    assert caught.value.rule == "content-type"


async def test_http_errors_are_data(origin: LoopbackServer, make_fetcher: Any) -> None:
    result = page_result(await make_fetcher().fetch(origin.url("/missing")), 100, 1)
    assert result["ok"] is False and result["status"] == 404
    assert "HTTP 404" in result["error"]["message"]


async def test_cache_serves_fresh_pages_and_revalidates_stale_ones(
    origin: LoopbackServer, make_fetcher: Any
) -> None:
    def page(seen: Any) -> Reply:
        if seen.headers.get("If-None-Match") == '"v1"':
            return Reply(304, b"", {"ETag": '"v1"'})
        return Reply(200, ARTICLE.encode(), {"Content-Type": "text/html", "ETag": '"v1"'})

    origin.routes["/p"] = page
    fresh = make_fetcher(cache=True)
    first = await fresh.fetch(origin.url("/p"))
    second = await fresh.fetch(origin.url("/p"))
    assert (first.from_cache, second.from_cache, len(origin.requests)) == (False, True, 1)
    stale = make_fetcher(cache=True, cache_ttl_s=0)
    third = await stale.fetch(origin.url("/p"))
    assert third.from_cache and third.body == first.body
    assert origin.requests[-1].headers["If-None-Match"] == '"v1"'


async def test_no_store_pages_are_not_cached(origin: LoopbackServer, make_fetcher: Any) -> None:
    headers = {"Content-Type": "text/html", "Cache-Control": "private, no-store"}
    origin.routes["/private"] = Reply(200, b"<p>account</p>", headers)
    fetcher = make_fetcher(cache=True)
    pages = [await fetcher.fetch(origin.url("/private")) for _ in range(2)]
    assert [p.from_cache for p in pages] == [False, False] and len(origin.requests) == 2


async def test_503_with_retry_after_is_retried_and_long_waits_are_not(
    origin: LoopbackServer, make_fetcher: Any
) -> None:
    answers = iter([Reply(503, b"", {"Retry-After": "0"}), Reply(200, b"<p>back</p>")])
    origin.routes["/flaky"] = lambda seen: next(answers)
    origin.routes["/busy"] = Reply(429, b"", {"Retry-After": "3600"})
    fetcher = make_fetcher()
    assert (await fetcher.fetch(origin.url("/flaky"))).status == 200
    assert (await fetcher.fetch(origin.url("/busy"))).status == 429
    assert origin.paths() == ["/flaky", "/flaky", "/busy"]


async def test_robots_txt_is_honoured_unless_disabled(
    origin: LoopbackServer, make_fetcher: Any
) -> None:
    rules = b"User-agent: *\nDisallow: /private\n"
    origin.routes |= {
        "/robots.txt": Reply(200, rules, {"Content-Type": "text/plain"}),
        "/private/x": Reply(200, b"<p>hidden</p>"),
        "/public": Reply(200, b"<p>open</p>"),
    }
    polite = make_fetcher(respect_robots=True)
    with pytest.raises(PolicyRefusal) as caught:
        await polite.fetch(origin.url("/private/x"))
    assert caught.value.rule == "robots-txt"
    assert not isinstance(caught.value, SecurityViolation)  # the site's wish, not an attack
    assert caught.value.exit_code == 2
    assert (await polite.fetch(origin.url("/public"))).status == 200
    assert origin.paths() == ["/robots.txt", "/public"]
    assert (await make_fetcher().fetch(origin.url("/private/x"))).status == 200


async def test_robots_of_a_host_that_does_not_resolve_says_so(make_fetcher: Any) -> None:
    fetcher = make_fetcher(respect_robots=True)  # the scripted resolver knows no host
    with pytest.raises(BackendError, match=r"nowhere\.test does not resolve") as caught:
        await fetcher.fetch("http://nowhere.test/page")
    assert not isinstance(caught.value, PolicyRefusal)
    assert "robots" not in caught.value.message


async def test_per_host_concurrency_is_bounded(origin: LoopbackServer, make_fetcher: Any) -> None:
    origin.routes["/slow"] = Reply(200, b"<p>slow</p>", delay_s=0.1)
    fetcher = make_fetcher(per_host_concurrency=1)
    pages = await asyncio.gather(*(fetcher.fetch(origin.url("/slow")) for _ in range(3)))
    assert [p.status for p in pages] == [200, 200, 200]
    assert origin.max_active == 1


async def test_a_server_slower_than_the_timeout_is_a_backend_timeout(
    origin: LoopbackServer, make_fetcher: Any
) -> None:
    origin.routes["/stall"] = Reply(200, b"<p>late</p>", delay_s=1.0)
    with pytest.raises(BackendTimeout):
        await make_fetcher(read_timeout_s=0.2).fetch(origin.url("/stall"))

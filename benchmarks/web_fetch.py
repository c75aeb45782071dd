"""Fetch overhead of the SSRF-safe pipeline vs plain httpx, and extraction throughput.

Both clients fetch the same page from one keep-alive loopback server (a separate process), in
interleaved rounds; the ratio of median per-request times is the overhead (goal ≤ 1.2×, before
extraction). Extraction is timed against bare ``trafilatura.extract`` on the same page.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from autan.config import WebSettings
from autan.tools.web.extract import extract
from autan.tools.web.fetch import WebFetcher

ROUNDS, PER_ROUND, PAGES = 11, 30, 30
SERVER = """
import sys, time
from autan.tools.web.testing import LoopbackServer, Reply
body = open(sys.argv[1], "rb").read()
server = LoopbackServer({"/page": Reply(200, body, {"Content-Type": "text/html; charset=utf-8"})})
print(server.port, flush=True)
time.sleep(3600)
"""


def article(paragraphs: int = 40) -> bytes:
    """A ~25 KB page: navigation, a cookie banner, an article with headings and lists, a footer."""
    nav = "".join(f'<a href="/section/{i}">Section {i}</a> ' for i in range(30))
    body = "".join(
        f"<h2>Part {i}</h2><p>{'Tidal streams carry energy through narrow straits. ' * 6}</p>"
        f"<ul><li>Point {i}.1 about turbines</li><li>Point {i}.2 about grids</li></ul>"
        for i in range(paragraphs)
    )
    return (
        f"<html><head><title>Bench page</title></head><body><nav>{nav}</nav>"
        f"<div class='cookies'>We use cookies.</div><article><h1>Bench</h1>{body}</article>"
        f"<footer>© Example. <a href='/privacy'>Privacy</a></footer></body></html>"
    ).encode()


async def _time(fetch_once: object, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await fetch_once()  # type: ignore[operator]
    return (time.perf_counter() - start) / n


async def fetch_overhead(port: int) -> tuple[float, float]:
    """Median seconds per request: plain httpx, then WebFetcher.fetch."""
    url = f"http://127.0.0.1:{port}/page"
    web = WebSettings(test_allow_loopback_ports=[port], per_host_rate_per_s=0, respect_robots=False)
    fetcher = WebFetcher(web)
    async with httpx.AsyncClient() as plain:

        async def plain_once() -> None:
            (await plain.get(url)).raise_for_status()

        async def safe_once() -> None:
            assert (await fetcher.fetch(url)).status == 200

        await plain_once(), await safe_once()  # warm both pools
        plain_t, safe_t = [], []
        for _ in range(ROUNDS):
            plain_t.append(await _time(plain_once, PER_ROUND))
            safe_t.append(await _time(safe_once, PER_ROUND))
    await fetcher.aclose()
    return statistics.median(plain_t), statistics.median(safe_t)


def extraction_rates(page: bytes) -> tuple[float, float]:
    """Pages per second: bare trafilatura.extract, then autan's extract (text, title, links)."""
    import trafilatura

    html = page.decode()
    start = time.perf_counter()
    for _ in range(PAGES):
        trafilatura.extract(html)
    bare = PAGES / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(PAGES):
        extract(page, "text/html; charset=utf-8", "http://bench.test/page")
    ours = PAGES / (time.perf_counter() - start)
    return bare, ours


def main() -> None:
    from _report import report  # type: ignore[import-not-found]

    page = article()
    page_file = Path(__file__).with_name(".web_fetch_page.html")
    page_file.write_bytes(page)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(page_file)], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline())  # type: ignore[union-attr]
        plain, safe = asyncio.run(fetch_overhead(port))
    finally:
        server.terminate()
        server.wait()
        page_file.unlink(missing_ok=True)
    bare, ours = extraction_rates(page)
    rows = [
        ["plain httpx.AsyncClient GET (anchor)", f"{plain * 1e3:.3f} ms/request", "1.00×"],
        ["WebFetcher.fetch (parse, resolve, vet, pin, capped body)",
         f"{safe * 1e3:.3f} ms/request", f"{safe / plain:.2f}×"],
        ["trafilatura.extract (anchor)", f"{bare:.0f} pages/s", "1.00×"],
        ["autan extract (text + title + links)", f"{ours:.0f} pages/s", f"{bare / ours:.2f}× time"],
    ]  # fmt: skip
    report(
        "Web fetch overhead and extraction",
        ["what", "measured", "vs anchor"],
        rows,
        script="benchmarks/web_fetch.py",
        notes=(
            f"Loopback keep-alive server in its own process, {len(page) // 1000} KB HTML page; "
            f"median of {ROUNDS} interleaved rounds of {PER_ROUND} sequential requests each. "
            "The URL is an IP literal, so no DNS lookup is timed on either side. "
            "Goal: fetch ≤ 1.2× plain httpx before extraction. Extraction: "
            f"{PAGES} runs on the same page."
        ),
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()

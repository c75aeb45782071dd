"""``autan serve`` memory over many requests (issue 14: memory flat over 10,000 requests).

One real ``autan serve`` on 127.0.0.1 (scripted model, light guard policy, hashing embedder,
async SQLite checkpoints) gets N requests from C concurrent clients, in turn a chat completion,
a streamed chat completion and a search. The server's RSS is read from /proc after a warm-up
round (the anchor) and after every tenth of the run; the table shows the growth against it.

    python benchmarks/serve_memory.py [--requests 10000] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from benchmarks._report import report  # noqa: E402
from benchmarks.serve import QUESTION, _env, rss_mb, wait_up  # noqa: E402
from tests.server.live import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHAT = {"messages": [{"role": "user", "content": QUESTION}]}


async def one(client: httpx.AsyncClient, n: int) -> bool:
    """Request number ``n`` of the mix; whether it succeeded."""
    kind = n % 3
    if kind == 0:
        r = await client.post("/v1/chat/completions", json=CHAT)
        return r.status_code == 200 and bool(r.json()["choices"][0]["message"]["content"])
    if kind == 1:
        async with client.stream(
            "POST", "/v1/chat/completions", json={**CHAT, "stream": True}
        ) as s:
            lines = [line async for line in s.aiter_lines()]
        return s.status_code == 200 and "data: [DONE]" in lines
    r = await client.post("/v1/search", json={"query": "attention heads", "k": 3})
    return r.status_code == 200 and bool(r.json()["citations"])


async def drive(url: str, start: int, count: int, clients: int) -> int:
    """Send requests ``start .. start+count`` over ``clients`` connections; the failures."""
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        queue = iter(range(start, start + count))

        async def worker() -> int:
            return sum([not await one(client, n) for n in queue])

        return sum(await asyncio.gather(*(worker() for _ in range(clients))))


def start(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``autan serve`` on a free port with papers ingested; returns once it answers."""
    env = {**_env(home), "AUTAN_RETRIEVAL__EMBEDDER": "hashing"}
    port = free_port()
    cmd = [sys.executable, "-m", "autan", "serve", "--port", str(port)]
    out = subprocess.DEVNULL
    proc, url = wait_up(
        subprocess.Popen(cmd, env=env, cwd=home, stdout=out, stderr=out), port, "autan"
    )
    papers = {"paths": [str(ROOT / "examples" / "papers")]}
    httpx.post(f"{url}/v1/ingest", json=papers, timeout=300).raise_for_status()
    return proc, url


def run(total: int, clients: int) -> tuple[list[list[Any]], float, int]:
    """Rows of the table, requests per second, and how many requests failed."""
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start(Path(tmp))
        try:
            warm = max(300, total // 20)
            failed = asyncio.run(drive(url, 0, warm, clients))
            anchor = rss_mb(proc.pid)
            rows: list[list[Any]] = [[f"after {warm} warm-up requests (anchor)", f"{anchor:.1f}",
                                      "+0.0", "1.000×"]]  # fmt: skip
            started, done, step = time.perf_counter(), 0, max(1, total // 10)
            while done < total:
                failed += asyncio.run(drive(url, warm + done, min(step, total - done), clients))
                done += min(step, total - done)
                now = rss_mb(proc.pid)
                rows.append([f"after {done} more", f"{now:.1f}", f"{now - anchor:+.1f}",
                             f"{now / anchor:.3f}×"])  # fmt: skip
            rate = total / (time.perf_counter() - started)
        finally:
            proc.terminate()
            proc.wait(30)
    return rows, rate, failed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    rows, rate, failed = run(args.requests, args.clients)
    report(
        "Server: memory over many requests",
        ["point", "RSS MB", "growth MB", "vs anchor"],
        rows,
        script="benchmarks/serve_memory.py",
        notes=f"{args.requests} requests after the warm-up, {args.clients} concurrent clients, "
        "in turn a chat completion, a streamed chat completion and a search; scripted model, "
        f"light guard policy, hashing embedder. {rate:.0f} requests/s, {failed} failed. Goal: "
        f"memory flat over 10,000 requests. Load average at the start: {load:.1f}.",
    )


if __name__ == "__main__":
    main()

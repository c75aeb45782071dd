"""``autan serve`` memory over many requests (issue 14: memory flat over 10,000 requests).

One real ``autan serve`` on 127.0.0.1 (scripted model, light guard policy, hashing embedder,
async SQLite checkpoints) gets N requests from C concurrent clients, in turn a chat completion,
a streamed chat completion and a search. The server's RSS is read from /proc after a warm-up
round (the anchor) and every ``--every`` requests: the table is the curve, with the growth
per 1,000 requests between samples, so a plateau shows as that column falling to zero; the
note gives the slope over the run's second half. Longer runs show where it levels off.

    python benchmarks/serve_memory.py [--requests 10000] [--clients 8] [--every 1000]
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


def run(total: int, clients: int, every: int) -> tuple[list[list[Any]], float, int, float]:
    """Rows of the curve, requests per second, failures, and MB per 1,000 requests late on."""
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start(Path(tmp))
        try:
            warm = max(300, total // 20)
            failed = asyncio.run(drive(url, 0, warm, clients))
            curve = [(0, rss_mb(proc.pid))]
            started = time.perf_counter()
            while curve[-1][0] < total:
                done, step = curve[-1][0], min(every, total - curve[-1][0])
                failed += asyncio.run(drive(url, warm + done, step, clients))
                curve.append((done + step, rss_mb(proc.pid)))
            rate = total / (time.perf_counter() - started)
        finally:
            proc.terminate()
            proc.wait(30)
    return _rows(curve, warm), rate, failed, _late_slope(curve)


def _rows(curve: list[tuple[int, float]], warm: int) -> list[list[Any]]:
    """One row per sample: RSS, growth against the anchor, growth per 1,000 since the last."""
    anchor = curve[0][1]
    rows: list[list[Any]] = [[f"after {warm} warm-up requests (anchor)", f"{anchor:.1f}", "+0.0",
                              "1.000×", ""]]  # fmt: skip
    for (n0, mb0), (n, mb) in zip(curve, curve[1:], strict=False):
        per_k = (mb - mb0) / (n - n0) * 1000
        rows.append([f"after {n} more", f"{mb:.1f}", f"{mb - anchor:+.1f}",
                     f"{mb / anchor:.3f}×", f"{per_k:+.2f}"])  # fmt: skip
    return rows


def _late_slope(curve: list[tuple[int, float]]) -> float:
    """MB per 1,000 requests over the second half of the run (0 on a plateau)."""
    half = [(n, mb) for n, mb in curve if n >= curve[-1][0] / 2]
    (n0, mb0), (n1, mb1) = half[0], half[-1]
    return (mb1 - mb0) / (n1 - n0) * 1000 if n1 > n0 else 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--every", type=int, default=1000, help="sample RSS every N requests")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    rows, rate, failed, late = run(args.requests, args.clients, max(1, args.every))
    report(
        "Server: memory over many requests",
        ["point", "RSS MB", "growth MB", "vs anchor", "MB per 1,000 since last"],
        rows,
        script="benchmarks/serve_memory.py",
        notes=f"{args.requests} requests after the warm-up, {args.clients} concurrent clients, "
        "in turn a chat completion, a streamed chat completion and a search; scripted model, "
        f"light guard policy, hashing embedder. {rate:.0f} requests/s, {failed} failed. Goal: "
        f"memory flat over 10,000 requests. Over the second half of the run RSS moved "
        f"{late:+.2f} MB per 1,000 requests (0 on a plateau). Load average at the start: "
        f"{load:.1f}.",
    )


if __name__ == "__main__":
    main()

"""``autan serve`` under load vs a bare ASGI app on the same graph; search warm vs cold.

Part 1: C concurrent streaming clients (scripted model, light guard policy, async SQLite saver
on both sides) against ``autan serve`` and against a bare Starlette app that streams the same
agent graph's ``astream`` with no gate, no run records and no background task. Reported: errors,
p50/p99 time to the first answer token, throughput, and the server's RSS growth.
Part 2: ``autan search`` as a cold process vs the same command through a running server.

    python benchmarks/serve.py [--clients 64] [--requests 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from benchmarks._report import report  # noqa: E402
from tests.server.live import LIGHT_POLICY, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "turns:\n  - text: 'Streaming is cheap. The graph is the same. Only the server differs.'\n"
QUESTION = "tell me something"


def _env(home: Path) -> dict[str, str]:
    (home / "policy.yaml").write_text(LIGHT_POLICY, encoding="utf-8")
    (home / "script.yaml").write_text(SCRIPT, encoding="utf-8")
    (home / "autan.toml").write_text("", encoding="utf-8")  # no user config file applies
    return {
        **os.environ,
        "AUTAN_DATA_DIR": str(home / "data"),
        "AUTAN_CONFIG": str(home / "autan.toml"),
        "AUTAN_GUARDS__POLICY": str(home / "policy.yaml"),
        "AUTAN_MEMORY__AUTO_RECALL": "0",
        "AUTAN_MODEL__SPEC": f"scripted:{home / 'script.yaml'}",
        "AUTAN_SERVER__RATE_PER_MIN": "1e9",
        "AUTAN_SERVER__BURST": "1000000",
    }


def baseline_app() -> Any:
    """A bare Starlette app: POST /stream → SSE of the agent graph's astream, nothing else."""
    from contextlib import asynccontextmanager

    from langchain_core.messages import HumanMessage
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    from autan.api import Agent, new_thread_id
    from autan.config import load_settings
    from autan.memory.checkpoints import open_async_checkpointer

    settings, holder = load_settings(), {}

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        async with open_async_checkpointer(settings) as saver:
            holder["agent"] = Agent(settings=settings, tools=None, checkpointer=saver)
            yield

    async def stream(request: Any) -> StreamingResponse:
        body = await request.json()
        agent = holder["agent"]

        async def events() -> Any:
            inputs = {"messages": [HumanMessage(body["input"])]}
            config = agent.config(new_thread_id())
            async for msg, _ in agent.graph.astream(inputs, config, stream_mode="messages"):
                if isinstance(msg.content, str) and msg.content:
                    yield f"data: {json.dumps({'text': msg.content})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/stream", stream, methods=["POST"])], lifespan=lifespan)


def start(kind: str, home: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``autan serve`` or the baseline on a free port; return once it answers."""
    port = free_port()
    if kind == "autan":
        cmd = [sys.executable, "-m", "autan", "serve", "--port", str(port)]
    else:
        cmd = [sys.executable, __file__, "--baseline", str(port)]
    return wait_up(
        subprocess.Popen(
            cmd, env=_env(home), cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        ),
        port,
        kind,
    )


def wait_up(proc: Any, port: int, kind: str) -> tuple[Any, str]:
    url = f"http://127.0.0.1:{port}"
    probe = (
        (lambda: httpx.post(f"{url}/stream", json={"input": "warm"}, timeout=60))
        if (kind == "baseline")
        else (lambda: httpx.get(f"{url}/healthz", timeout=2))
    )
    for _ in range(1200):
        try:
            if probe().status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{kind} server did not start")


async def one(client: httpx.AsyncClient, kind: str) -> tuple[float, bool]:
    """Time to the first answer token of one streamed request; False if it failed."""
    path, body = (
        ("/stream", {"input": QUESTION})
        if kind == "baseline"
        else (
            "/v1/chat/completions",
            {"stream": True, "messages": [{"role": "user", "content": QUESTION}]},
        )
    )
    started, first, ok = time.perf_counter(), None, False
    async with client.stream("POST", path, json=body) as r:
        async for line in r.aiter_lines():
            if first is None and _is_token(line, kind):
                first = time.perf_counter() - started
            ok = ok or line == "data: [DONE]"
    return (first if first is not None else float("nan")), ok and r.status_code == 200


def _is_token(line: str, kind: str) -> bool:
    if not line.startswith("data: {"):
        return False
    data = json.loads(line[6:])
    if kind == "baseline":
        return bool(data.get("text"))
    return bool(data.get("choices") and data["choices"][0]["delta"].get("content"))


async def load(url: str, kind: str, clients: int, per_client: int) -> dict[str, float]:
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def worker() -> list[tuple[float, bool]]:
            return [await one(client, kind) for _ in range(per_client)]

        started = time.perf_counter()
        results = [r for w in await asyncio.gather(*(worker() for _ in range(clients))) for r in w]
        wall = time.perf_counter() - started
    ttfe = sorted(t for t, ok in results if ok)
    return {
        "errors": sum(1 for _, ok in results if not ok),
        "p50": statistics.median(ttfe),
        "p99": ttfe[min(len(ttfe) - 1, int(len(ttfe) * 0.99))],
        "rps": len(results) / wall,
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(kind: str, clients: int, per_client: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start(kind, Path(tmp))
        try:
            asyncio.run(load(url, kind, clients, 1))  # warm-up round
            before = rss_mb(proc.pid)
            out = asyncio.run(load(url, kind, clients, per_client))
            out["rss_growth"] = rss_mb(proc.pid) - before
            return out
        finally:
            proc.terminate()
            proc.wait(30)


def _client_env(env: dict[str, str], url: str) -> dict[str, str]:
    """What a client machine has: the server's address and nothing else of autan's settings."""
    plain = {k: v for k, v in env.items() if not k.startswith("AUTAN_")}
    return {**plain, "AUTAN_SERVER_URL": url, "AUTAN_DATA_DIR": env["AUTAN_DATA_DIR"]}


def search_times(runs: int) -> tuple[float, float, float, float]:
    """Median wall times: ``autan search`` cold, through the server (fast and full CLI paths),
    and /v1/search alone."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {**_env(home), "AUTAN_RETRIEVAL__EMBEDDER": os.environ.get("EMBEDDER", "minilm")}
        autan = [sys.executable, "-m", "autan"]
        subprocess.run(
            [*autan, "ingest", str(ROOT / "examples" / "papers"), "-q"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        query = [*autan, "search", "attention heads", "--json"]
        cold = _wall(query, env, runs)
        proc, url = start_search_server(env, home)
        try:
            fast = _wall(query, _client_env(env, url), runs)
            served = _wall(query, {**env, "AUTAN_SERVER_URL": url}, runs)
            http = [
                _timed(
                    lambda: httpx.post(
                        f"{url}/v1/search", json={"query": "attention heads"}, timeout=60
                    )
                )
                for _ in range(runs * 4)
            ]
        finally:
            proc.terminate()
            proc.wait(30)
    return cold, fast, served, statistics.median(http)


def start_search_server(env: dict[str, str], home: Path) -> tuple[Any, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "autan", "serve", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return wait_up(proc, port, "autan")


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn().raise_for_status()
    return time.perf_counter() - started


def _wall(cmd: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--requests", type=int, default=8, help="per client")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds per server")
    ap.add_argument("--baseline", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.baseline:
        import uvicorn

        uvicorn.run(baseline_app(), host="127.0.0.1", port=args.baseline, log_level="warning")
        return
    rounds: dict[str, list[dict[str, float]]] = {"baseline": [], "autan": []}
    for _ in range(args.rounds):  # interleaved, so a busy spell on a shared machine hits both
        for server, seen in rounds.items():
            seen.append(measure(server, args.clients, args.requests))
    base, served = _mean(rounds["baseline"]), _mean(rounds["autan"])
    write(args, base, served, search_times(3))


def _mean(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Each metric averaged over the rounds (errors summed)."""
    out = {k: statistics.fmean(r[k] for r in rounds) for k in rounds[0]}
    out["errors"] = sum(r["errors"] for r in rounds)
    return out


def _row(name: str, m: dict[str, float], base: dict[str, float]) -> list[Any]:
    return [
        name,
        int(m["errors"]),
        f"{m['p50'] * 1000:.0f}",
        f"{m['p99'] * 1000:.0f}",
        f"{m['p99'] / base['p99']:.2f}×",
        f"{m['rps']:.1f}",
        f"{base['rps'] / m['rps']:.2f}×",
        f"{m['rss_growth']:+.1f}",
    ]


def write(args: Any, base: dict[str, float], served: dict[str, float], search: Any) -> None:
    total = args.clients * args.requests
    report(
        "Server: concurrent streaming clients vs a bare ASGI app",
        [
            "server",
            "errors",
            "p50 first token ms",
            "p99 first token ms",
            "p99 vs anchor",
            "req/s",
            "time per req vs anchor",
            "RSS growth MB",
        ],
        [
            _row("bare Starlette + same graph (anchor)", base, base),
            _row("autan serve", served, base),
        ],
        script="benchmarks/serve.py",
        notes=f"{args.clients} concurrent clients × {args.requests} streamed chat requests each "
        f"({total} per server and round) after one warm-up round, {args.rounds} rounds "
        "interleaved between the servers, each metric the mean of the rounds; scripted model, "
        "light guard policy, "
        "async SQLite checkpoints on both sides. Goal: ≤ 1.2× the anchor on p99 and throughput. "
        f"Load average when it ended: {os.getloadavg()[0]:.1f}.",
    )
    write_search(*search)


def write_search(cold: float, fast: float, through: float, http: float) -> None:
    report(
        "Server: autan search warm vs cold",
        ["how", "ms (median)", "vs cold"],
        [
            ["`autan search` cold process (anchor)", f"{cold * 1000:.0f}", "1.00×"],
            [
                "`autan search` with only AUTAN_SERVER_URL set (stdlib fast path)",
                f"{fast * 1000:.0f}",
                f"{fast / cold:.2f}×",
            ],
            [
                "`autan search` with AUTAN_SERVER_URL and a settings file (full CLI)",
                f"{through * 1000:.0f}",
                f"{through / cold:.2f}×",
            ],
            ["POST /v1/search (HTTP only)", f"{http * 1000:.1f}", f"{http / cold:.3f}×"],
        ],
        script="benchmarks/serve.py",
        notes="examples/papers ingested with the MiniLM embedder; the CLI rows include the "
        "`autan` process start. A settings file or any AUTAN_* setting beyond the server's "
        "address, key and data dir takes the full CLI, which validates settings first "
        "(docs/serve.md). Goal: ≤ 300 ms end to end through the server. "
        f"Load average when it ended: {os.getloadavg()[0]:.1f}.",
    )


if __name__ == "__main__":
    main()

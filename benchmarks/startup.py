"""CLI start-up: wall time of whole ``autan`` processes, each against a named anchor.

- ``autan --help`` and the quick paths of ``ask``, ``ingest`` and ``guard check`` (issue 18)
  against ``python -c "import langgraph.graph"``.
- ``autan search`` through a running ``autan serve`` (issue 14: ≤ 300 ms end to end), on the
  fast path and on the full CLI, against the server's own time for the same search
  (``POST /v1/search`` on a kept-alive connection).

    python benchmarks/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import report  # noqa: E402
from tests.server.live import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
AUTAN = [sys.executable, "-m", "autan"]
QUERY = "attention heads"
CARD = "4111 1111 1111 1112"  # fails the checksum: the text passes, after the full PII path


def wall(cmd: list[str], runs: int, env: dict[str, str] | None = None, code: int = 0) -> float:
    """Median wall time of ``cmd`` as a fresh process; it must exit with ``code``."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        samples.append(time.perf_counter() - start)
        if done.returncode != code:
            raise SystemExit(f"{cmd} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return statistics.median(samples)


def median_of(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def heavy_modules() -> str:
    probe = (
        "import sys, autan.cli.app;"
        "print(','.join(m for m in ('torch','transformers','qdrant_client','langgraph')"
        " if m in sys.modules) or 'none')"
    )
    return subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout.strip()


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without AUTAN_* settings, on a scratch data dir."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("AUTAN_")}
    return {**env, "AUTAN_DATA_DIR": str(home / "data"), **extra}


def quick_paths(home: Path, runs: int) -> list[tuple[str, float]]:
    """The no-op paths of issue 18: nothing to ask, nothing changed, a harmless text."""
    env = clean_env(home, AUTAN_RETRIEVAL__EMBEDDER="minilm")
    notes = home / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("# A\n\nQuokkas live on Rottnest island.\n", encoding="utf-8")
    subprocess.run([*AUTAN, "ingest", str(notes), "-q"], env=env, check=True)
    check = ["guard", "check", "--text", "hello", "--stage"]
    card = ["guard", "check", "--text", f"order {CARD} shipped", "--stage", "output"]
    cases = [
        ("autan --help", ["--help"], 0),
        ('autan ask " " (refused before any model loads)', ["ask", " "], 2),
        ("autan ingest NOTES (nothing changed, MiniLM)", ["ingest", str(notes), "-q"], 0),
        ("autan guard check --stage input", [*check, "input"], 0),
        ("autan guard check --stage output (PII pre-pass, toxicity)", [*check, "output"], 0),
        ("autan guard check --stage output, a card number (Presidio + spaCy)", card, 0),
    ]
    return [(name, wall([*AUTAN, *args], runs, env, code)) for name, args, code in cases]


def remote_search(home: Path, runs: int) -> tuple[float, float, float]:
    """(server-side search, CLI fast path, full CLI) through one ``autan serve``."""
    port = free_port()
    env = clean_env(home, AUTAN_RETRIEVAL__EMBEDDER="minilm")
    server = subprocess.Popen(
        [*AUTAN, "serve", "--port", str(port)], env=env, cwd=home,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        conn = wait_up(port, server)
        post(conn, "/v1/ingest", {"paths": [str(ROOT / "examples" / "papers")]})
        served = median_of(lambda: post(conn, "/v1/search", {"query": QUERY}), runs * 4)
        cli_env = clean_env(home, AUTAN_SERVER_URL=f"http://127.0.0.1:{port}")
        search = [*AUTAN, "search", QUERY, "--json"]
        fast = wall(search, runs, cli_env)
        full = wall(search, runs, {**cli_env, "AUTAN_MEMORY__USER": "default"})
    finally:
        server.terminate()
        server.wait(30)
    return served, fast, full


def wait_up(port: int, server: subprocess.Popen[bytes]) -> http.client.HTTPConnection:
    for _ in range(1200):
        if server.poll() is not None:
            raise SystemExit("autan serve exited before it answered")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                return conn
        except OSError:
            time.sleep(0.1)
    raise SystemExit("autan serve did not start")


def post(conn: http.client.HTTPConnection, path: str, body: dict[str, object]) -> object:
    conn.request("POST", path, json.dumps(body), {"content-type": "application/json"})
    response = conn.getresponse()
    data = json.loads(response.read())
    if response.status != 200:
        raise SystemExit(f"{path}: HTTP {response.status}: {data}")
    return data


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    runs = ap.parse_args().runs
    load_before = os.getloadavg()[0]
    anchor = wall([sys.executable, "-c", "import langgraph.graph"], runs)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "quick").mkdir()
        quick = quick_paths(Path(tmp) / "quick", runs)
        served, fast, full = remote_search(Path(tmp), runs)
    bare = wall([sys.executable, "-c", "pass"], runs)
    lg = "import langgraph.graph"
    timed = [("python -c 'import langgraph.graph' (anchor A)", anchor), *quick]
    rows = [[name, f"{t * 1000:.0f}", "A", f"{t / anchor:.2f}×"] for name, t in timed]
    rows.append(["python -c 'pass'", f"{bare * 1000:.0f}", "A", f"{bare / anchor:.2f}×"])
    through = [
        ("POST /v1/search in the server (anchor S)", served),
        ("autan search via autan serve (fast path)", fast),
        ("autan search via autan serve (full CLI)", full),
    ]
    rows += [[name, f"{t * 1000:.1f}", "S", f"{t / served:.1f}×"] for name, t in through]
    report(
        "CLI start-up",
        ["command", f"ms (median of {runs})", "anchor", "vs anchor"],
        rows,
        script="benchmarks/startup.py",
        notes=f"Anchor A: `{lg}` in a fresh process; anchor S: the server's own time for the "
        "same search on a kept-alive connection (examples/papers, MiniLM embedder). Goals: "
        "`autan --help` ≤ 300 ms; `autan search` through a server ≤ 300 ms end to end (issue "
        "14); the quick paths of `ask`, `ingest`, `guard check` ≤ 1.5 s (issue 18). The full "
        "CLI row forces the full path with one more setting (`AUTAN_MEMORY__USER`). The PII rail "
        "loads Presidio and spaCy only for a text that could hold one of its entities (at the "
        "output stage: 9 digits in a row, single separators allowed, or two letters then two "
        "digits); the card-number row pays that load, as every output check did before. Heavy "
        f"modules the CLI imports: {heavy_modules()}. Load average at the start: "
        f"{load_before:.1f}.",
    )


if __name__ == "__main__":
    main()

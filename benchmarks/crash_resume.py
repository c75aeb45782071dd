"""Kill a 14-step workflow with SIGKILL at 50 random points, resume each run, count the damage.

Anchor: the same workflow run to its end with no kill, in the same process (its wall time per
run is the denominator of the recovery-overhead ratio).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import report  # noqa: E402
from tests.workflows.crash_harness import EXPECTED, kill_and_resume  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as anchor_dir:
        clean = kill_and_resume(Path(anchor_dir), points=0, min_runs=3)
        clean_s = clean.seconds / clean.runs
    with tempfile.TemporaryDirectory() as work:
        out = kill_and_resume(Path(work), points=50, seed=50)
    per_run = out.seconds / max(out.runs, 1)
    rows = [
        [
            "no kill (anchor)",
            0,
            clean.runs,
            len(EXPECTED) * clean.runs,
            0,
            0,
            f"{clean_s:.2f}",
            "1.00",
        ],
        [
            "SIGKILL at random points",
            out.kills,
            out.runs,
            len(EXPECTED) * out.runs,
            sum(1 for p in out.problems if "times" in p and "applied 0" in p),
            sum(1 for p in out.problems if "applied 2" in p or "keys" in p or "invocations" in p),
            f"{per_run:.2f}",
            f"{per_run / clean_s:.2f}",
        ],
    ]
    report(
        "Crash and resume of YAML automations",
        [
            "scenario",
            "kills",
            "runs",
            "side-effecting steps",
            "lost",
            "repeated",
            "s per run",
            "x anchor",
        ],
        rows,
        script="benchmarks/crash_resume.py",
        notes=(
            "Each run is the 14-step flow of tests/workflows/crash_harness.py (tool steps, a "
            "4-item map, a branch) whose tool appends a line per step; the child process is "
            "killed with SIGKILL at a uniformly random moment and resumed until the run "
            "finishes. 'lost' counts steps whose effect is missing, 'repeated' steps applied "
            "twice, re-run under a new key, or invoked more than once per kill in flight. "
            f"Problems seen: {out.problems or 'none'}."
            + (f" clean anchor ok: {not clean.problems}.")
        ),
    )


if __name__ == "__main__":
    main()

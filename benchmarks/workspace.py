"""Workspace tools on a generated 50k-file repository: ``grep`` and ``list_files`` against git/rg.

Anchors, measured in the same run on the same files (page cache warm): ``git grep -n`` and
``git ls-files``, and ripgrep (``rg -n`` / ``rg --files``) when it is installed. The issue's goal:
each answers in <= 1 s and stays within its output cap. A rare pattern makes every tool read
every file; a common one lets autan stop at its match cap (the anchors print every match).
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import report  # noqa: E402

from autan.config import load_settings  # noqa: E402
from autan.tools.registry import ToolRegistry  # noqa: E402

FILES = 50_000
PER_DIR = 100
NEEDLES = 25
REPEATS = 3
IDENT = ["-c", "user.name=bench", "-c", "user.email=bench@example.org", "-c", "gc.auto=0"]
IDENT += ["-c", "maintenance.auto=false"]


def _module(rng: random.Random, index: int, needle: bool) -> str:
    names = [f"func_{index}_{j}" for j in range(rng.randrange(2, 6))]
    body = [f'"""Generated module {index}."""', "import os", ""]
    for name in names:
        body += [f"def {name}(x):", f"    return x * {rng.randrange(100)}  # step {index}", ""]
    if needle:
        body.append(f"RARE_NEEDLE_{index} = True")
    return "\n".join(body) + "\n"


def generate(root: Path) -> None:
    """FILES small Python files in folders of PER_DIR, a .gitignore'd build/ folder, one commit."""
    rng = random.Random(50)
    needles = set(rng.sample(range(FILES), NEEDLES))
    for i in range(FILES):
        folder = root / f"pkg{i // PER_DIR // 20:02}" / f"mod{i // PER_DIR:03}"
        if i % PER_DIR == 0:
            folder.mkdir(parents=True)
        (folder / f"m{i:05}.py").write_text(_module(rng, i, i in needles), encoding="utf-8")
    (root / ".gitignore").write_text("build/\n", encoding="utf-8")
    (root / "build").mkdir()
    for i in range(500):
        (root / "build" / f"gen{i}.py").write_text("RARE_NEEDLE_ignored = 1\n", encoding="utf-8")
    git = ["git", *IDENT]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "generated"]):
        subprocess.run([*git, *args], cwd=root, check=True, capture_output=True)


def best_s(func: Callable[[], Any]) -> tuple[float, Any]:
    """Median seconds over REPEATS runs (after one warm-up), and the last result."""
    out = func()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def _lines(argv: list[str], root: Path) -> int:
    done = subprocess.run(argv, cwd=root, capture_output=True, check=False)
    return len(done.stdout.splitlines())


def _command_s(argv: list[str], root: Path) -> float:
    return best_s(lambda: subprocess.run(argv, cwd=root, capture_output=True, check=False))[0]


def _ours(tools: ToolRegistry, name: str, args: dict[str, Any]) -> tuple[float, int]:
    seconds, result = best_s(lambda: tools.run(name, args))
    if not result["ok"]:
        raise SystemExit(f"benchmark call failed: {result}")
    return seconds, result["matches"] if name == "grep" else len(result["files"])


def measure(root: Path) -> list[list[object]]:
    """One row per (task, tool): seconds, ratio to git, lines returned, the cap."""
    settings = load_settings(workspace=root)
    tools = ToolRegistry.builtin(settings, ["grep", "list_files"])
    cap_g, cap_l = settings.files.max_matches, settings.files.max_list
    rg = shutil.which("rg")
    rare, common = "RARE_NEEDLE_[0-9]+", "def func_"
    tasks: list[tuple[str, str, dict[str, Any], list[str], list[str], int]] = [
        ("grep rare", "grep", {"pattern": rare, "max_matches": cap_g},
         ["git", "grep", "-n", "-E", rare], ["rg", "-n", rare], cap_g),
        ("grep common", "grep", {"pattern": common, "max_matches": cap_g},
         ["git", "grep", "-n", common], ["rg", "-n", common], cap_g),
        ("list *.py", "list_files", {"pattern": "*.py", "limit": cap_l},
         ["git", "ls-files", "*.py"], ["rg", "--files", "-g", "*.py"], cap_l),
    ]  # fmt: skip
    rows: list[list[object]] = []
    for label, name, args, git_argv, rg_argv, cap in tasks:
        ours, got = _ours(tools, name, args)
        git_s = _command_s(git_argv, root)
        rows.append([label, "autan", f"{ours:.3f}", f"{ours / git_s:.2f}x", got, cap])
        rows.append([label, "git", f"{git_s:.3f}", "1.00x", _lines(git_argv, root), "none"])
        if rg:
            rg_s = _command_s(rg_argv, root)
            ratio = f"{rg_s / git_s:.2f}x"
            rows.append([label, "rg", f"{rg_s:.3f}", ratio, _lines(rg_argv, root), "none"])
    return rows


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="autan-bench-ws-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        generate(root)
        print(f"generated {FILES} files in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        rows = measure(root)
    notes = (
        f"A generated git repository of {FILES:,} Python files ({NEEDLES} hold the rare "
        "pattern) plus 500 files in a .gitignore'd build/ folder that every tool skips. Seconds "
        f"are the median of {REPEATS} warm runs; ratio is against `git grep` / `git ls-files` "
        "in the same run. autan's grep stops at its match cap, so on a common pattern it reads "
        "only the first files; on the rare pattern every tool reads every file. "
        f"CPUs: {len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.1f} at the end."
    )
    report(
        "Workspace tools: grep and list_files on 50k files",
        ["task", "tool", "seconds", "vs git", "lines returned", "cap"],
        rows,
        script="benchmarks/workspace.py",
        notes=notes,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

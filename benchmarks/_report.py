"""Print a benchmark table and keep it in docs/benchmarks.md under its own heading.

Each benchmark owns one ``## <title>`` section of docs/benchmarks.md; re-running it replaces that
section and leaves every other one alone.
"""

from __future__ import annotations

import platform
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Every table is written by the script named under it, which compares against its anchor in "
    "the same run (ratios, not absolute times). Re-run with `make bench` or one script at a time.\n"
)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def report(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    script: str,
    notes: str = "",
) -> str:
    """Print the table and write it into docs/benchmarks.md under ``## title``."""
    table = markdown_table(headers, rows)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    machine = f"{platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}"
    body = f"## {title}\n\n{table}\n\n"
    if notes:
        body += notes.strip() + "\n\n"
    body += f"_`python {script}` on {stamp} ({machine}, load average {_load()})._\n"
    print(f"\n{title}\n{table}\n{notes}")
    _write_section(title, body)
    return table


def _load() -> str:
    """The 1-minute load average when the table was written (the machine may be shared)."""
    import os

    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _write_section(title: str, body: str) -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: body + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + body
    DOC.write_text(text.rstrip("\n") + "\n", encoding="utf-8")

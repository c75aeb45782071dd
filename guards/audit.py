"""Append-only JSONL audit log, one file per run: what each rail decided, never the text.

Each line holds time, run id, stage, rail, action, score, reasons and the SHA-256 of the text
the rail judged; rails' reasons name kinds ("EMAIL_ADDRESS x1"), never values, so no secret or
personal data is written.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from autan.guards.base import Stage, Verdict

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class AuditLog:
    """Writes one JSON line per rail verdict to ``<dir>/<run id>.jsonl``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def path_for(self, run_id: str | None) -> Path:
        """The file of one run (unsafe characters in the id become ``_``)."""
        name = _SAFE.sub("_", run_id or "adhoc").strip("._") or "adhoc"
        return self.directory / f"{name[:128]}.jsonl"

    def __call__(self, text: str, stage: Stage, verdict: Verdict, ctx: Mapping[str, Any]) -> None:
        """Record one verdict (the GuardRunner observer signature)."""
        run_id = ctx.get("run_id")
        record = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "run_id": run_id,
            "stage": stage,
            "rail": verdict.rail,
            "action": verdict.action,
            "score": round(verdict.score, 4),
            "reasons": list(verdict.reasons),
            "sha256": hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
            "chars": len(text),
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        path = self.path_for(None if run_id is None else str(run_id))
        with self._lock, _append(path) as f:
            f.write(line)


def _append(path: Path) -> TextIO:
    """``path`` opened to append; its folder is made only when missing (not on every line)."""
    try:
        return path.open("a", encoding="utf-8")
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("a", encoding="utf-8")

"""The durable run journal: run records, and one row per step attempt with its idempotency key.

A step's attempt is written ``started`` (and committed with ``synchronous=FULL``) before the step
runs, and ``done`` with its output after; a resumed run replays ``done`` outputs instead of
running the step again, and re-runs an unfinished attempt with the *same* key.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autan.errors import AutanError, BackendTimeout, NotFoundError
from autan.memory.checkpoints import WriterLock, connect_sqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, flow TEXT, name TEXT, vars TEXT, status TEXT,
    created REAL, updated REAL, error TEXT, outputs TEXT);
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT, step TEXT, attempt INTEGER, key TEXT, status TEXT, output TEXT, error TEXT,
    started REAL, finished REAL, PRIMARY KEY (run_id, step, attempt));
"""


class StepFailed(AutanError):
    """A step attempt failed (tool said ok: false, bad JSON, timeout); it may be retried."""


class NeedsHuman(Exception):  # noqa: N818 - a signal, not an error
    """A step must wait for a human; the attempt stays open and resumes with the same key."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__("waiting for a human decision")
        self.payload = payload


@dataclass(frozen=True)
class Run:
    """One run's record."""

    run_id: str
    flow: str
    name: str
    vars: dict[str, Any]
    status: str
    created: float
    updated: float
    error: str | None
    outputs: Any


class Journal:
    """Run records and step attempts in ``runs.sqlite`` beside the checkpoints."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = connect_sqlite(path)
        self.lock = WriterLock(path)
        with self.lock.hold():
            self.conn.executescript(SCHEMA)

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        with self.lock.hold():
            self.conn.execute(sql, params)
            self.conn.commit()

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self.lock.hold():
            return list(self.conn.execute(sql, params).fetchall())

    def create_run(self, run_id: str, flow: str, name: str, variables: dict[str, Any]) -> None:
        """Record a new run before anything runs."""
        now = time.time()
        self._write(
            "INSERT INTO runs VALUES (?, ?, ?, ?, 'running', ?, ?, NULL, NULL)",
            (run_id, flow, name, json.dumps(variables, default=str), now, now),
        )

    def set_status(
        self, run_id: str, status: str, error: str | None = None, outputs: Any = None
    ) -> None:
        """Update a run's status (and its error or outputs)."""
        self._write(
            "UPDATE runs SET status = ?, error = ?, outputs = ?, updated = ? WHERE run_id = ?",
            (status, error, json.dumps(outputs, default=str), time.time(), run_id),
        )

    def run(self, run_id: str) -> Run:
        """A run's record; ``NotFoundError`` for an unknown id."""
        rows = self._read("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        if not rows:
            raise NotFoundError(f"unknown run id {run_id!r}", hint="see 'autan runs list'")
        return _run(rows[0])

    def runs(self, limit: int = 50) -> list[Run]:
        """The most recent runs first."""
        rows = self._read("SELECT * FROM runs ORDER BY created DESC LIMIT ?", (limit,))
        return [_run(r) for r in rows]

    def attempts(self, run_id: str) -> list[dict[str, Any]]:
        """Every step attempt of a run, in the order they started."""
        rows = self._read(
            "SELECT step, attempt, key, status, output, error, started, finished FROM steps "
            "WHERE run_id = ? ORDER BY started, step",
            (run_id,),
        )
        names = ("step", "attempt", "key", "status", "output", "error", "started", "finished")
        out = [dict(zip(names, r, strict=True)) for r in rows]
        for a in out:
            a["output"] = json.loads(a["output"]) if a["output"] is not None else None
        return out

    def latest(self, run_id: str, step: str) -> tuple[int, str, Any] | None:
        """The latest attempt of a step: (attempt, status, output)."""
        rows = self._read(
            "SELECT attempt, status, output FROM steps WHERE run_id = ? AND step = ? "
            "ORDER BY attempt DESC LIMIT 1",
            (run_id, step),
        )
        if not rows:
            return None
        attempt, status, output = rows[0]
        return int(attempt), str(status), json.loads(output) if output is not None else None

    def start(self, run_id: str, step: str, attempt: int, key: str) -> None:
        """Durably record that an attempt is about to run (before any side effect)."""
        self._write(
            "INSERT OR IGNORE INTO steps VALUES (?, ?, ?, ?, 'started', NULL, NULL, ?, NULL)",
            (run_id, step, attempt, key, time.time()),
        )

    def finish(self, run_id: str, step: str, attempt: int, status: str, value: Any) -> None:
        """Record an attempt's outcome: ``done`` with its output or ``failed`` with its error."""
        column = "output" if status == "done" else "error"
        text = json.dumps(value, ensure_ascii=False, default=str) if status == "done" else value
        self._write(
            f"UPDATE steps SET status = ?, {column} = ?, finished = ? "  # noqa: S608
            "WHERE run_id = ? AND step = ? AND attempt = ?",
            (status, text, time.time(), run_id, step, attempt),
        )

    def delete_run(self, run_id: str) -> None:
        """Forget a run's record and attempts."""
        self._write("DELETE FROM steps WHERE run_id = ?", (run_id,))
        self._write("DELETE FROM runs WHERE run_id = ?", (run_id,))

    def close(self) -> None:
        """Release the database."""
        self.conn.close()


def _run(row: tuple[Any, ...]) -> Run:
    run_id, flow, name, variables, status, created, updated, error, outputs = row
    return Run(
        run_id,
        flow,
        name,
        json.loads(variables or "{}"),
        status,
        created,
        updated,
        error,
        json.loads(outputs) if outputs else None,
    )


def call_with_timeout(func: Callable[[], Any], timeout: float | None) -> Any:
    """Run ``func`` in a fresh thread (a clean context) and wait at most ``timeout`` seconds."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True, name="autan-step")
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise BackendTimeout(f"the step did not finish within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")

"""API keys (stored hashed), who owns each thread, run and collection, and the run records.

One SQLite file, ``server.sqlite`` in the data dir, shared by ``autan keys`` and the server.
A key is ``autan-<id>-<secret>``; only the SHA-256 of the whole key is stored, so a copy of the
database does not reveal any key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from autan.errors import NotFoundError, UserInputError

LOCAL = "local"  # the owner of requests without a key on a loopback-only server
RUN_FIELDS = (
    "run_id",
    "thread_id",
    "owner",
    "status",
    "input",
    "answer",
    "sources",
    "steps",
    "verdicts",
    "interrupt",
    "error",
    "created",
    "updated",
    "usage",
)
_JSON_FIELDS = ("sources", "steps", "verdicts", "interrupt", "usage")
_SAVE_RUN = (
    f"INSERT OR REPLACE INTO runs ({', '.join(RUN_FIELDS)}) "
    f"VALUES ({', '.join('?' for _ in RUN_FIELDS)})"
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL,
    created REAL NOT NULL, revoked REAL);
CREATE TABLE IF NOT EXISTS owners (kind TEXT NOT NULL, id TEXT NOT NULL, owner TEXT NOT NULL,
    created REAL NOT NULL, PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL,
    owner TEXT NOT NULL, status TEXT NOT NULL, input TEXT, answer TEXT, sources TEXT,
    steps TEXT, verdicts TEXT, interrupt TEXT, error TEXT, created REAL NOT NULL,
    updated REAL NOT NULL, usage TEXT);
CREATE INDEX IF NOT EXISTS runs_by_thread ON runs (thread_id, created);
"""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Records:
    """Keys, owners and runs; safe to share between threads (one connection, one lock)."""

    def __init__(self, data_dir: Path) -> None:
        path = Path(data_dir) / "server.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # the graph's checkpoints stay FULL
        self._lock = threading.Lock()
        with self._tx() as cur:
            cur.executescript(_SCHEMA)
            columns = {row[1] for row in cur.execute("PRAGMA table_info(runs)")}
            if "usage" not in columns:  # a database from before token usage was kept
                cur.execute("ALTER TABLE runs ADD COLUMN usage TEXT")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        with self._lock, self._conn:
            yield self._conn.cursor()

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    # keys -------------------------------------------------------------------------------
    def create_key(self, name: str) -> tuple[str, str]:
        """A new key: returns ``(id, key)``; the key itself is shown once and never stored."""
        if not name.strip():
            raise UserInputError("a key needs a name", hint="autan keys create NAME")
        key_id = secrets.token_hex(4)
        token = f"autan-{key_id}-{secrets.token_urlsafe(24)}"
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO keys VALUES (?, ?, ?, ?, NULL)",
                (key_id, name.strip(), _digest(token), time.time()),
            )
        return key_id, token

    def list_keys(self) -> list[dict[str, Any]]:
        """Every key's id, name, creation time and revocation time (never the key)."""
        rows = self._rows("SELECT id, name, created, revoked FROM keys ORDER BY created")
        return [{"id": r[0], "name": r[1], "created": r[2], "revoked": r[3]} for r in rows]

    def revoke_key(self, key_id: str) -> None:
        """Revoke a key; requests with it fail from then on."""
        with self._tx() as cur:
            cur.execute(
                "UPDATE keys SET revoked = ? WHERE id = ? AND revoked IS NULL",
                (time.time(), key_id),
            )
            if cur.rowcount == 0:
                raise NotFoundError(f"no active key {key_id!r}", hint="see 'autan keys list'")

    def has_keys(self) -> bool:
        """True when at least one key is active."""
        return bool(self._rows("SELECT 1 FROM keys WHERE revoked IS NULL LIMIT 1"))

    def verify(self, token: str) -> str | None:
        """The id of the active key ``token`` is, or None."""
        parts = token.split("-")
        if len(parts) < 3 or parts[0] != "autan":
            return None
        rows = self._rows("SELECT hash FROM keys WHERE id = ? AND revoked IS NULL", (parts[1],))
        if rows and hmac.compare_digest(rows[0][0], _digest(token)):
            return parts[1]
        return None

    # owners -----------------------------------------------------------------------------
    def claim(self, kind: str, item: str, owner: str) -> bool:
        """Record ``owner`` as the owner of a new item; False if someone else owns it."""
        with self._tx() as cur:
            cur.execute(
                "INSERT OR IGNORE INTO owners VALUES (?, ?, ?, ?)", (kind, item, owner, time.time())
            )
        return self.owner_of(kind, item) == owner

    def owner_of(self, kind: str, item: str) -> str | None:
        """Who owns an item (None: nobody yet)."""
        rows = self._rows("SELECT owner FROM owners WHERE kind = ? AND id = ?", (kind, item))
        return str(rows[0][0]) if rows else None

    def owned(self, kind: str, owner: str, limit: int = 100) -> list[str]:
        """The items of ``kind`` an owner has, newest first."""
        sql = "SELECT id FROM owners WHERE kind = ? AND owner = ? ORDER BY created DESC LIMIT ?"
        return [str(r[0]) for r in self._rows(sql, (kind, owner, limit))]

    # runs -------------------------------------------------------------------------------
    def save_run(self, run: dict[str, Any], *, claim_thread: bool = False) -> None:
        """Insert or replace a run record; ``claim_thread``: its owner takes a new thread too.

        One transaction either way, so a new thread's first run costs one commit.
        """
        now = time.time()
        row = {**run, "created": run.get("created") or now, "updated": now}
        values = [json.dumps(row.get(f)) if f in _JSON_FIELDS else row.get(f) for f in RUN_FIELDS]
        with self._tx() as cur:
            if claim_thread:
                cur.execute(
                    "INSERT OR IGNORE INTO owners VALUES ('thread', ?, ?, ?)",
                    (run["thread_id"], run["owner"], now),
                )
            cur.execute(_SAVE_RUN, values)
        run.update(created=row["created"], updated=now)

    def run(self, run_id: str) -> dict[str, Any] | None:
        """One run record, or None."""
        sql = f"SELECT {', '.join(RUN_FIELDS)} FROM runs WHERE run_id = ?"
        rows = self._rows(sql, (run_id,))
        return _run(rows[0]) if rows else None

    def runs(self, thread_id: str) -> list[dict[str, Any]]:
        """A thread's runs, oldest first."""
        sql = f"SELECT {', '.join(RUN_FIELDS)} FROM runs WHERE thread_id = ? ORDER BY created"
        return [_run(r) for r in self._rows(sql, (thread_id,))]

    def running(self) -> list[str]:
        """Ids of runs recorded as running."""
        return [str(r[0]) for r in self._rows("SELECT run_id FROM runs WHERE status = 'running'")]

    def close(self) -> None:
        """Release the database."""
        with self._lock:
            self._conn.close()


def _run(row: tuple[Any, ...]) -> dict[str, Any]:
    out = dict(zip(RUN_FIELDS, row, strict=True))
    for f in _JSON_FIELDS:
        out[f] = json.loads(out[f]) if out[f] else None
    return out

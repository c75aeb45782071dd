"""Durable LangGraph checkpointers: SQLite in the data dir by default, Postgres by URL.

``open_checkpointer`` gives a sync saver (the CLI); ``open_async_checkpointer`` is an async
context manager giving LangGraph's own async saver on the same database (the server), so
``await graph.ainvoke(...)`` is durable too.

SQLite runs in WAL mode with a busy timeout, and every write transaction holds an inter-process
file lock (one writer at a time across threads *and* processes), so concurrent sessions on one
file never see "database is locked" and never lose a write.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver

from autan.config import Settings
from autan.errors import BackendError, ConfigError, missing_extra

BUSY_TIMEOUT_MS = 30_000
DB_NAME = "checkpoints.sqlite"


def connect_sqlite(path: Path) -> sqlite3.Connection:
    """A WAL connection with a busy timeout, shareable across threads (callers serialise)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


class WriterLock:
    """One writer at a time on a database file, across threads and processes (``flock``)."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".writer.lock")
        self._local = threading.Lock()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for the duration of one write transaction."""
        with self._local, open(self.path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class DurableSqliteSaver(SqliteSaver):
    """SqliteSaver whose write transactions take the file's writer lock first."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        super().__init__(conn)
        self.path = path
        self.writer = WriterLock(path)

    @contextmanager
    def cursor(self, transaction: bool = True) -> Iterator[sqlite3.Cursor]:
        """A cursor; write transactions run under the writer lock and commit before release."""
        if not transaction:
            with super().cursor(transaction=False) as cur:
                yield cur
            return
        with self.writer.hold(), super().cursor(transaction=True) as cur:
            yield cur

    def setup(self) -> None:
        """Create the tables once, under the writer lock."""
        if self.is_setup:
            return
        with self.writer.hold():
            super().setup()

    def close(self) -> None:
        """Release the connection."""
        self.conn.close()


def sqlite_path(settings: Settings) -> Path:
    """Where the default SQLite checkpoints live."""
    return Path(settings.data_dir) / DB_NAME


def open_sqlite(path: Path) -> DurableSqliteSaver:
    """A durable SQLite checkpointer on ``path`` (created if needed)."""
    try:
        saver = DurableSqliteSaver(connect_sqlite(path), path)
        saver.setup()
    except sqlite3.Error as exc:
        raise BackendError(f"cannot open checkpoint database {path}: {exc}") from None
    return saver


def open_postgres(url: str) -> BaseCheckpointSaver[Any]:
    """A Postgres checkpointer on ``url`` with its tables set up."""
    try:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
    except ModuleNotFoundError:
        raise missing_extra("postgres", "langgraph-checkpoint-postgres") from None
    try:
        conn = psycopg.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
    except psycopg.Error as exc:
        raise BackendError(f"cannot connect to the checkpoint database: {exc}") from None
    saver = PostgresSaver(conn)
    saver.setup()
    return saver


def open_checkpointer(settings: Settings) -> BaseCheckpointSaver[Any]:
    """The configured checkpointer: ``memory.checkpoint_url`` if set, else SQLite in data_dir.

    URLs: ``postgresql://...`` / ``postgres://...``, ``sqlite:///path/to/file.sqlite``.
    """
    kind, where = _checkpoint_target(settings)
    return open_postgres(where) if kind == "postgres" else open_sqlite(Path(where))


def _checkpoint_target(settings: Settings) -> tuple[str, str]:
    """``("sqlite", path)`` or ``("postgres", url)`` for the configured checkpoint store."""
    url = settings.memory.checkpoint_url
    if not url:
        return "sqlite", str(sqlite_path(settings))
    if url.startswith(("postgresql://", "postgres://")):
        return "postgres", url
    if url.startswith("sqlite:///"):
        return "sqlite", str(Path(url.removeprefix("sqlite:///")).expanduser())
    raise ConfigError(
        f"unsupported checkpoint URL {url.split('://')[0]}://...",
        hint="use postgresql://user@host/db or sqlite:///path/file.sqlite",
    )


@asynccontextmanager
async def open_async_sqlite(path: Path) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """LangGraph's ``AsyncSqliteSaver`` on ``path`` in WAL mode with a busy timeout."""
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = await aiosqlite.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=FULL")
        saver = AsyncSqliteSaver(conn)
        await saver.setup()
    except sqlite3.Error as exc:
        raise BackendError(f"cannot open checkpoint database {path}: {exc}") from None
    try:
        yield saver
    finally:
        await conn.close()


@asynccontextmanager
async def open_async_postgres(url: str) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """LangGraph's ``AsyncPostgresSaver`` on ``url`` with its tables set up."""
    try:
        import psycopg
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    except ModuleNotFoundError:
        raise missing_extra("postgres", "langgraph-checkpoint-postgres") from None
    from psycopg.rows import dict_row

    try:
        conn = await psycopg.AsyncConnection.connect(
            url, autocommit=True, prepare_threshold=0, row_factory=dict_row
        )
    except psycopg.Error as exc:
        raise BackendError(f"cannot connect to the checkpoint database: {exc}") from None
    try:
        saver = AsyncPostgresSaver(conn)
        await saver.setup()
        yield saver
    finally:
        await conn.close()


@asynccontextmanager
async def open_async_checkpointer(settings: Settings) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """The configured checkpointer as an async saver (same database as ``open_checkpointer``)."""
    kind, where = _checkpoint_target(settings)
    opener = open_async_postgres(where) if kind == "postgres" else open_async_sqlite(Path(where))
    async with opener as saver:
        yield saver


def close_checkpointer(saver: BaseCheckpointSaver[Any]) -> None:
    """Close the connection a checkpointer holds (no-op for in-memory savers)."""
    conn = getattr(saver, "conn", None)
    if conn is not None and hasattr(conn, "close"):
        conn.close()


@contextmanager
def checkpointer(settings: Settings) -> Iterator[BaseCheckpointSaver[Any]]:
    """``open_checkpointer`` as a context manager that closes it."""
    saver = open_checkpointer(settings)
    try:
        yield saver
    finally:
        close_checkpointer(saver)


def list_threads(saver: BaseCheckpointSaver[Any], prefix: str = "") -> list[tuple[str, int]]:
    """Thread ids starting with ``prefix`` and their checkpoint counts, newest first."""
    sql = (
        "SELECT thread_id, COUNT(*) AS n, MAX(checkpoint_id) AS last FROM checkpoints "
        "WHERE checkpoint_ns = '' AND thread_id LIKE {p} GROUP BY thread_id ORDER BY last DESC"
    )
    pattern = prefix.replace("%", r"\%").replace("_", r"\_") + "%"
    if isinstance(saver, SqliteSaver):
        with saver.cursor(transaction=False) as cur:
            cur.execute(sql.format(p="? ESCAPE '\\'"), (pattern,))
            return [(str(r[0]), int(r[1])) for r in cur.fetchall()]
    conn: Any = getattr(saver, "conn", None)
    if conn is None:
        return sorted({(str(c.config["configurable"]["thread_id"]), 1) for c in saver.list(None)})
    with conn.cursor() as cur:
        cur.execute(sql.format(p="%s"), (pattern,))
        return [(str(r["thread_id"]), int(r["n"])) for r in cur.fetchall()]

"""One process at a time inside an embedded collection, handed over on request, never "corrupt".

The embedded engine keeps a collection open in one process only (it locks the write-ahead log,
and a second process that opens the files anyway can damage them). So every process takes an
exclusive ``flock`` on ``ROOT/.locks/<collection>.lock`` before it opens a collection, and writes
who it is into that file. A process that has to wait first takes a shared lock on
``<collection>.queue``; the holder sees that between two operations (``waiting()``), closes the
collection and lets go, so a search waits for one ingest batch, not the whole ingest. A waiter
prints who holds the collection and gives up after ``timeout_s`` with an error naming it.

Damage is told apart from a busy collection by a manifest written at every clean close: the size
of every file the engine wrote. A file that is missing or shorter than recorded means the
collection was damaged outside autan; it is reported and left exactly as it is.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from autan.errors import BackendTimeout, ConfigError

MANIFEST = "manifest.json"
# Files the engine itself removes or shrinks on a healthy reopen.
_VOLATILE = ("tracker_journal.dat",)
POLL_S = 0.05
NOTIFY_EVERY_S = 5.0


def stderr_notice(message: str) -> None:
    """The default progress message for a wait: one line on stderr."""
    stream: TextIO = sys.stderr
    stream.write(message + "\n")
    stream.flush()


def _holder() -> dict[str, Any]:
    command = " ".join(Path(sys.argv[0]).name if i == 0 else a for i, a in enumerate(sys.argv))
    return {
        "pid": os.getpid(),
        "command": command[:160] or "python",
        "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def describe(holder: dict[str, Any] | None) -> str:
    """``process 123 (autan ingest docs) since 10:02:03Z`` or a fallback."""
    if not holder:
        return "another process"
    return f"process {holder.get('pid')} ({holder.get('command')}) since {holder.get('since')}"


class CollectionLock:
    """The cross-process lock of one collection: acquire, hand over when asked, release."""

    def __init__(
        self,
        root: Path,
        name: str,
        *,
        timeout_s: float = 60.0,
        notify: Callable[[str], None] | None = stderr_notice,
        label: str | None = None,
    ) -> None:
        folder = root / ".locks"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._lock = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            self._queue = os.open(folder / f"{name}.queue", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(
                f"cannot lock vector store collection {name!r} under {root}: {exc.strerror}",
                hint="check that the data directory is writable (AUTAN_DATA_DIR)",
            ) from None
        self.name, self.timeout_s, self.notify = name, timeout_s, notify
        self.label = label or f"vector store collection {name!r}"
        self.held = False

    def holder(self) -> dict[str, Any] | None:
        """Who holds (or last held) the collection, from the lock file."""
        try:
            data = os.pread(self._lock, 4096, 0).decode("utf-8", "replace").strip("\0 \n")
            info: dict[str, Any] = json.loads(data)
            return info
        except (OSError, ValueError):
            return None

    def _try(self) -> bool:
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def acquire(self, *, after_handover: bool = False) -> None:
        """Take the collection, waiting (with notices) up to ``timeout_s``."""
        if self.held:
            return
        started = time.monotonic()
        if after_handover:  # let the process we handed over to go first
            while self.waiting() and time.monotonic() - started < self.timeout_s:
                time.sleep(POLL_S)
        fcntl.flock(self._queue, fcntl.LOCK_SH)
        try:
            self._wait(started)
        finally:
            fcntl.flock(self._queue, fcntl.LOCK_UN)
        record = json.dumps(_holder()).encode()
        os.ftruncate(self._lock, 0)
        os.pwrite(self._lock, record, 0)
        self.held = True

    def _wait(self, started: float) -> None:
        told = 0.0
        while not self._try():
            waited = time.monotonic() - started
            if waited >= self.timeout_s:
                raise BackendTimeout(
                    f"{self.label} is in use by {describe(self.holder())}; "
                    f"gave up after {waited:.0f} s",
                    hint="wait for that process to finish (or stop it) and run this again; "
                    "retrieval.lock_timeout_s sets how long to wait",
                )
            if self.notify and waited >= told:
                self.notify(
                    f"waiting for {describe(self.holder())} to let go of {self.label} "
                    f"({waited:.0f} s, giving up at {self.timeout_s:.0f} s)"
                )
                told = waited + NOTIFY_EVERY_S
            time.sleep(POLL_S)

    def waiting(self) -> bool:
        """Whether another process (or store) is queued for this collection."""
        try:
            fcntl.flock(self._queue, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(self._queue, fcntl.LOCK_UN)
        return False

    def release(self) -> None:
        """Let go of the collection."""
        if self.held:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self.held = False

    def close(self) -> None:
        """Release and close the lock files."""
        self.release()
        os.close(self._lock)
        os.close(self._queue)


def _files(shard: Path) -> dict[str, int]:
    out = {}
    for path in shard.rglob("*"):
        rel = path.relative_to(shard).as_posix()
        if path.is_file() and not rel.startswith("wal/") and path.name not in _VOLATILE:
            out[rel] = path.stat().st_size
    return out


def write_manifest(directory: Path, shard: Path, *, clean: bool) -> None:
    """Record the shard's file sizes after a clean close, or mark it open (no sizes)."""
    data: dict[str, Any] = {"clean": clean, "files": _files(shard) if clean else {}}
    tmp = directory / f".{MANIFEST}.{os.getpid()}"
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, directory / MANIFEST)


def check_manifest(name: str, directory: Path, shard: Path) -> None:
    """``ConfigError`` naming the first file missing or shorter than at the last clean close."""
    try:
        data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # written by an older autan, or the last holder did not close cleanly
    if not data.get("clean"):
        return
    for rel, size in sorted(data.get("files", {}).items()):
        path = shard / rel
        have = path.stat().st_size if path.is_file() else None
        if have is None or have < int(size):
            state = "is missing" if have is None else f"has {have} of its {size} bytes"
            raise ConfigError(
                f"vector store collection {name!r} is corrupt: {rel} {state} (truncated or "
                "deleted outside autan); the files were left as they are",
                hint=f"restore {directory} from a backup, or drop it with "
                f"'autan collections drop {name}' and ingest again",
            )


__all__ = ["CollectionLock", "check_manifest", "describe", "stderr_notice", "write_manifest"]

"""Who holds an embedded collection: a second process waits briefly, then names the holder.

qdrant-edge lets one process open a shard at a time. A process that finds a shard held retries
for a few seconds, then fails with a ``BackendError`` naming the process that holds it (from the
``holder.json`` that process wrote) and what to do; a lock is never reported as corruption.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from autan.errors import BackendError

LOCK_WAIT_S = 5.0
HOLDER = "holder.json"
T = TypeVar("T")


def is_held(exc: BaseException) -> bool:
    """True when the engine refused to open a shard because another process has it open."""
    text = str(exc)
    return "WouldBlock" in text or "Resource temporarily unavailable" in text


def mark(directory: Path) -> None:
    """Record this process as the holder of the collection in ``directory``."""
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:3]]) if sys.argv else "python"
    try:
        (directory / HOLDER).write_text(json.dumps({"pid": os.getpid(), "command": command}))
    except OSError:
        pass  # the note is a courtesy to other processes, never a reason to fail


def release(directory: Path) -> None:
    """Remove this process's holder note."""
    path = directory / HOLDER
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def describe(directory: Path) -> str:
    """``process 123 (autan serve)``, or ``another process`` if the holder is unknown."""
    try:
        note = json.loads((directory / HOLDER).read_text())
        pid = int(note["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"
    return f"process {pid} ({note.get('command', '?')})"


def load_waiting(load: Callable[[], T], directory: Path, name: str) -> T:
    """``load()``, retried while another process holds the collection, for ``LOCK_WAIT_S``."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            return load()
        except Exception as exc:
            if not is_held(exc):
                raise
            if time.monotonic() >= deadline:
                raise BackendError(
                    f"vector store collection {name!r} is in use by {describe(directory)}",
                    hint="if that is 'autan serve', set AUTAN_SERVER_URL to use it; "
                    "otherwise wait for it to finish and run this again",
                ) from None
            time.sleep(0.2)

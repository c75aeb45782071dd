"""What one agent's tools hold open: its sandbox sessions and its long-term memory.

Nothing here is process-wide. A ``ToolRegistry`` owns one ``ToolResources``; the tools it builds
share it (``python`` and ``run_command`` use the same sessions), two agents with different
settings never share a pool or a store, and ``close()`` releases both. A ``weakref.finalize``
also releases them when the owner is collected or the interpreter exits.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

from autan.config import Settings

if TYPE_CHECKING:
    from autan.memory.long_term import LongTermMemory
    from autan.tools.sandbox.executor import SessionPool


class ToolResources:
    """The sandbox session pool and long-term memory of one agent, opened on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: SessionPool | None = None
        self._memory: LongTermMemory | None = None
        self._lock = threading.Lock()
        self._releases: list[weakref.finalize[..., ToolResources]] = []

    def sandbox(self) -> SessionPool:
        """The sandbox sessions of these tools (shared by ``python`` and ``run_command``)."""
        from autan.tools.sandbox.executor import SessionPool, make_executor

        with self._lock:
            if self._pool is None:
                workspace = self.settings.sandbox.workspace
                self._pool = SessionPool(make_executor(self.settings), workspace)
                self._releases.append(weakref.finalize(self, self._pool.close_all))
            return self._pool

    def memory(self) -> LongTermMemory:
        """The user's long-term memory (shared by ``remember``, ``recall`` and auto-recall)."""
        from autan.memory.long_term import LongTermMemory

        with self._lock:
            if self._memory is None:
                self._memory = LongTermMemory.from_settings(self.settings)
                self._releases.append(weakref.finalize(self, self._memory.close))
            return self._memory

    @property
    def memory_open(self) -> bool:
        """Whether long-term memory was opened (auto-recall then needs no look at the store)."""
        return self._memory is not None

    @property
    def sandbox_open(self) -> bool:
        """Whether a sandbox session pool was made."""
        return self._pool is not None

    def close(self) -> None:
        """Stop every sandbox session and release the store; later use opens them afresh."""
        with self._lock:
            releases, self._releases = self._releases, []
            self._pool = self._memory = None
        for release in releases:
            release()

    def __enter__(self) -> ToolResources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

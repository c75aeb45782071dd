"""One private event loop on a daemon thread: the sync entry to the async web stack.

Sync tool calls (the agent's tools node runs them on worker threads) and async ones from any
other loop both hand their coroutine to this loop, so connection pools, per-host limits and the
robots cache live in exactly one loop for the whole process.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """A lazily started event loop running forever on a daemon thread."""

    def __init__(self, name: str = "autan-web") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop, started on first use."""
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
                thread.start()
                self._loop = loop
            return self._loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for it (from any thread but the loop's own)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop()).result()

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the loop from another event loop."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop()))


WEB_LOOP = LoopThread()

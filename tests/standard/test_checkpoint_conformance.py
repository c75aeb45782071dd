"""langgraph-checkpoint-conformance on autan's SQLite and Postgres checkpointers, sync and async.

The suite drives the async API (``aput``, ``alist``...). The async savers (``open_async_sqlite``,
``open_async_postgres``, what ``autan serve`` and ``Agent.aask`` use) run under it as they are.
The sync savers run behind ``ThreadedAsync``, which sends each async call to the sync method on a
worker thread (what LangGraph does for a sync saver in an async graph). Each capability is one
test here; a failure lists the suite's own failing checks.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.capabilities import Capability

from autan.memory.checkpoints import (
    close_checkpointer,
    open_async_postgres,
    open_async_sqlite,
    open_postgres,
    open_sqlite,
)
from tests.memory.pg_server import postgres_url_fixture  # noqa: F401 - a fixture

pytestmark = pytest.mark.standard_suite
_ASYNC = {"aput": "put", "aput_writes": "put_writes", "aget_tuple": "get_tuple"}
_ASYNC |= {"adelete_thread": "delete_thread", "adelete_for_runs": "delete_for_runs"}
_ASYNC |= {"acopy_thread": "copy_thread", "aprune": "prune"}
_DB = itertools.count()


class ThreadedAsync(BaseCheckpointSaver[Any]):
    """A sync saver's methods, awaited on worker threads (see ``threaded``)."""

    def __init__(self, saver: BaseCheckpointSaver[Any]) -> None:
        super().__init__(serde=saver.serde)
        self.saver = saver

    async def alist(self, config: Any, **kwargs: Any) -> AsyncIterator[Any]:
        """The sync listing, gathered on a worker thread."""
        for item in await asyncio.to_thread(lambda: list(self.saver.list(config, **kwargs))):
            yield item

    def get_next_version(self, current: Any, channel: Any) -> Any:
        """The wrapped saver's versioning."""
        return self.saver.get_next_version(current, channel)


def threaded(saver: BaseCheckpointSaver[Any]) -> ThreadedAsync:
    """``saver`` behind async methods for exactly the sync methods its class implements."""
    methods = {
        name: _threaded(sync)
        for name, sync in _ASYNC.items()
        if getattr(type(saver), sync) is not getattr(BaseCheckpointSaver, sync)
    }
    return type(f"Threaded{type(saver).__name__}", (ThreadedAsync,), methods)(saver)


def _threaded(sync: str) -> Any:
    async def call(self: ThreadedAsync, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(getattr(self.saver, sync), *args, **kwargs)

    return call


def _fresh_database(url: str) -> str:
    import psycopg

    name = f"conformance_{next(_DB)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def _registered(kind: str, tmp_path: Path, url: str | None) -> Any:
    counter = itertools.count()

    async def factory() -> AsyncGenerator[BaseCheckpointSaver[Any], None]:
        if kind.startswith("async-"):
            where = tmp_path / f"c{next(counter)}.sqlite"
            opener = (
                open_async_sqlite(where)
                if kind == "async-sqlite"
                else open_async_postgres(_fresh_database(url or ""))
            )
            async with opener as native:
                yield native
            return
        if kind == "sqlite":
            saver = open_sqlite(tmp_path / f"c{next(counter)}.sqlite")
        else:
            assert url is not None
            saver = open_postgres(_fresh_database(url))
        try:
            yield threaded(saver)
        finally:
            close_checkpointer(saver)

    return checkpointer_test(name=f"autan-{kind}")(factory)


CAPABILITIES = [c.value for c in Capability]


def _check(kind: str, capability: str, tmp_path: Path, url: str | None, node: Any) -> None:
    report = asyncio.run(validate(_registered(kind, tmp_path, url), capabilities={capability}))
    result = report.results[capability]
    if not result.detected:
        pytest.skip(f"the {kind} saver does not implement {capability}")
    assert result.passed, result.failures
    assert result.tests_passed > 0 and result.tests_failed == 0
    node.user_properties.append(("standard_checks", result.tests_passed))


@pytest.mark.parametrize("kind", ["sqlite", "async-sqlite"])
@pytest.mark.parametrize("capability", CAPABILITIES)
def test_sqlite_conformance(
    kind: str, capability: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _check(kind, capability, tmp_path, None, request.node)


@pytest.mark.parametrize("kind", ["postgres", "async-postgres"])
@pytest.mark.parametrize("capability", CAPABILITIES)
def test_postgres_conformance(
    kind: str, capability: str, tmp_path: Path, postgres_url: str, request: pytest.FixtureRequest
) -> None:
    _check(kind, capability, tmp_path, postgres_url, request.node)

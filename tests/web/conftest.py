"""Loopback servers and a fetcher allowed to reach exactly one of them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from autan.config import Settings, WebSettings
from autan.tools.web.fetch import WebFetcher
from autan.tools.web.testing import LoopbackServer, RecordingBackend, ScriptedResolver


@pytest.fixture
def origin() -> Iterator[LoopbackServer]:
    """The allowed origin: a loopback server whose port the test settings open."""
    with LoopbackServer() as server:
        yield server


def web_settings(origin: LoopbackServer, **overrides: Any) -> WebSettings:
    """Test web settings: only ``origin``'s port is reachable, no pacing, robots off by default."""
    values: dict[str, Any] = {
        "test_allow_loopback_ports": [origin.port],
        "per_host_rate_per_s": 0,
        "respect_robots": False,
        "connect_timeout_s": 2.0,
        "read_timeout_s": 2.0,
        "timeout_s": 5.0,
    }
    return WebSettings(**(values | overrides))


@pytest.fixture
def settings_for_origin(settings: Settings, origin: LoopbackServer) -> Callable[..., Settings]:
    """Full Settings with the web section opened to ``origin`` (plus overrides)."""

    def build(**overrides: Any) -> Settings:
        return settings.model_copy(update={"web": web_settings(origin, **overrides)})

    return build


@pytest.fixture
async def make_fetcher(
    origin: LoopbackServer, tmp_path: Any
) -> AsyncIterator[Callable[..., WebFetcher]]:
    """Build fetchers against ``origin``; each records its connections on ``.backend``."""
    made: list[WebFetcher] = []

    def build(
        resolver: ScriptedResolver | None = None, cache: bool = False, **overrides: Any
    ) -> WebFetcher:
        backend = RecordingBackend()
        fetcher = WebFetcher(
            web_settings(origin, **overrides),
            cache_dir=tmp_path / "cache" if cache else None,
            resolver=resolver or ScriptedResolver({}),
            network_backend=backend,
        )
        fetcher.backend = backend  # type: ignore[attr-defined]
        made.append(fetcher)
        return fetcher

    yield build
    for fetcher in made:
        await fetcher.aclose()

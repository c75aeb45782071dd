"""web_search providers against loopback servers replaying each API's documented response shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from autan.config import Settings
from autan.tools.registry import ToolRegistry
from autan.tools.web.testing import LoopbackServer, Reply, Seen

JSON = {"Content-Type": "application/json"}

# https://docs.searxng.org/dev/search_api.html (format=json)
SEARXNG = {
    "query": "tidal power",
    "number_of_results": 0,
    "results": [
        {"url": "https://en.wikipedia.org/wiki/Tidal_power", "title": "Tidal power - Wikipedia",
         "content": "Tidal power is a form of hydropower...", "engine": "wikipedia",
         "engines": ["wikipedia"], "score": 3.0, "category": "general"},
        {"url": "https://EN.wikipedia.org/wiki/Tidal_power/#History", "title": "dup",
         "content": "same page again", "engine": "duckduckgo", "score": 1.0},
        {"url": "https://www.energy.gov/eere/water/tidal", "title": "Tidal Energy | DOE",
         "content": "  Tides are driven by the moon.  ", "engine": "bing", "score": 0.5},
    ],
    "answers": [], "corrections": [], "infoboxes": [], "suggestions": [],
    "unresponsive_engines": [],
}  # fmt: skip

# https://api-dashboard.search.brave.com/app/documentation/web-search/responses
BRAVE = {
    "type": "search",
    "query": {"original": "tidal power"},
    "web": {
        "type": "search",
        "results": [
            {"type": "search_result", "title": "Tidal power", "url": "https://example.org/tidal",
             "description": "Tidal <strong>power</strong> explained", "age": "2 days ago",
             "language": "en", "family_friendly": True},
            {"type": "search_result", "title": "Again", "url": "https://example.org/tidal/",
             "description": "duplicate"},
        ],
    },
}  # fmt: skip

# https://docs.tavily.com/documentation/api-reference/endpoint/search
TAVILY = {
    "query": "tidal power",
    "answer": None,
    "images": [],
    "results": [
        {"title": "Tidal energy basics", "url": "https://tavily.example/basics",
         "content": "Tidal energy is renewable.", "score": 0.91, "raw_content": None},
    ],
    "response_time": 0.42,
}  # fmt: skip


def run_search(settings: Settings, **web: Any) -> dict[str, Any]:
    configured = settings.model_copy(update={"web": settings.web.model_copy(update=web)})
    return ToolRegistry.builtin(configured, ["web_search"]).run(
        "web_search", {"query": "tidal power", "k": 5}
    )


@pytest.fixture
def api() -> Callable[[str, Any], LoopbackServer]:
    servers: list[LoopbackServer] = []

    def start(path: str, payload: Any) -> LoopbackServer:
        server = LoopbackServer({path: Reply(200, json.dumps(payload).encode(), JSON)})
        servers.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in servers:
        server.close()


def test_searxng_results_are_normalised_and_deduplicated(settings: Settings, api: Any) -> None:
    server = api("/search", SEARXNG)
    result = run_search(settings, searxng_url=server.origin + "/")
    assert result["ok"] and result["provider"] == "searxng"
    assert result["results"] == [
        {"title": "Tidal power - Wikipedia", "url": "https://en.wikipedia.org/wiki/Tidal_power",
         "snippet": "Tidal power is a form of hydropower..."},
        {"title": "Tidal Energy | DOE", "url": "https://www.energy.gov/eere/water/tidal",
         "snippet": "Tides are driven by the moon."},
    ]  # fmt: skip
    assert [c["key"] for c in result["citations"]] == [r["url"] for r in result["results"]]
    assert server.requests[0].path == "/search?q=tidal+power&format=json"


def test_brave_sends_its_key_and_reads_web_results(settings: Settings, api: Any) -> None:
    server = api("/res/v1/web/search", BRAVE)
    result = run_search(
        settings, brave_api_key="brv-key", brave_url=server.url("/res/v1/web/search")
    )
    assert result["provider"] == "brave"
    assert [(r["title"], r["snippet"]) for r in result["results"]] == [
        ("Tidal power", "Tidal power explained")
    ]
    seen: Seen = server.requests[0]
    assert seen.headers["X-Subscription-Token"] == "brv-key"
    assert "count=5" in seen.path


def test_tavily_posts_the_query_with_a_bearer_key(settings: Settings, api: Any) -> None:
    server = api("/search", TAVILY)
    result = run_search(settings, tavily_api_key="tvly-key", tavily_url=server.url("/search"))
    assert result["provider"] == "tavily"
    assert result["results"][0]["url"] == "https://tavily.example/basics"
    seen = server.requests[0]
    assert seen.method == "POST" and seen.headers["Authorization"] == "Bearer tvly-key"
    assert json.loads(seen.body)["query"] == "tidal power"


def test_searxng_is_the_default_when_several_are_configured(settings: Settings, api: Any) -> None:
    server = api("/search", SEARXNG)
    result = run_search(settings, searxng_url=server.origin, brave_api_key="unused")
    assert result["provider"] == "searxng"


def test_without_a_provider_the_result_says_how_to_configure_one(settings: Settings) -> None:
    result = run_search(settings)
    assert result["ok"] is False and result["error"]["type"] == "ConfigError"
    message = result["error"]["message"]
    assert "AUTAN_WEB__SEARXNG_URL" in message and "AUTAN_WEB__BRAVE_API_KEY" in message


def test_a_rejected_key_and_a_broken_answer_are_data(settings: Settings) -> None:
    with LoopbackServer({"/s": Reply(401, b"{}", JSON), "/bad": Reply(200, b"<html>", JSON)}) as s:
        rejected = run_search(settings, brave_api_key="wrong", brave_url=s.url("/s"))
        broken = run_search(settings, tavily_api_key="k", tavily_url=s.url("/bad"))
    assert rejected["error"]["type"] == "ConfigError" and "401" in rejected["error"]["message"]
    assert broken["error"]["type"] == "BackendError"

"""Redirects, DNS rebinding and oversized bodies, against real loopback servers.

The origin (127.0.0.1 on a port the test settings open) is allowed; stand-in listeners on other
loopback ports and on [::1] play the forbidden targets and must see no connection at all.
"""

from __future__ import annotations

import gzip
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from autan.errors import BackendError, SecurityViolation
from autan.tools.web.testing import LoopbackServer, Reply, ScriptedResolver, chunks

pytestmark = pytest.mark.security
PAGE = Reply(200, b"<html><head><title>ok</title></head><body><p>fine</p></body></html>")
SECRET = Reply(200, b"secret", {"Content-Type": "text/plain"})


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, b"", {"Location": location})


@pytest.fixture
def standin() -> Iterator[LoopbackServer]:
    """A forbidden IPv4 loopback target: same address as the origin, a port nobody opened."""
    with LoopbackServer({"/secret": SECRET}) as server:
        yield server


@pytest.fixture
def standin6(origin: LoopbackServer) -> Iterator[LoopbackServer]:
    """A forbidden IPv6 loopback target on the origin's port number."""
    try:
        server = LoopbackServer({"/secret": SECRET}, host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with server:
        yield server


@pytest.mark.parametrize(
    ("location", "rule"),
    [
        ("http://169.254.169.254/latest/meta-data/iam/", "link-local"),
        ("http://metadata.test/computeMetadata/v1/", "link-local"),
        ("file:///etc/passwd", "scheme"),
        ("http://[::ffff:169.254.169.254]/", "ipv4-mapped-link-local"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "scheme"),
    ],
)
async def test_redirect_to_forbidden_target_is_refused(
    location: str, rule: str, origin: LoopbackServer, make_fetcher: Any
) -> None:
    origin.routes["/go"] = redirect(location)
    resolver = ScriptedResolver({"metadata.test": [["169.254.169.254"]]})
    fetcher = make_fetcher(resolver=resolver)
    with pytest.raises(SecurityViolation) as caught:
        await fetcher.fetch(origin.url("/go"))
    assert caught.value.rule == rule
    assert {addr for addr, _ in fetcher.backend.connects} == {"127.0.0.1"}
    assert origin.paths() == ["/go"]


@pytest.mark.parametrize(
    ("template", "rule"),
    [
        ("http://127.0.0.1:{port}/secret", "loopback"),
        ("http://2130706433:{port}/secret", "ip-encoding"),
        ("http://0x7f.1:{port}/secret", "ip-encoding"),
        ("http://localhost:{port}/secret", "loopback"),
        ("//127.0.0.1:{port}/secret", "loopback"),
    ],
)
async def test_redirect_to_other_loopback_port_never_reaches_it(
    template: str, rule: str, origin: LoopbackServer, standin: LoopbackServer, make_fetcher: Any
) -> None:
    origin.routes["/go"] = redirect(template.format(port=standin.port), 307)
    fetcher = make_fetcher()
    with pytest.raises(SecurityViolation) as caught:
        await fetcher.fetch(origin.url("/go"))
    assert caught.value.rule == rule
    assert standin.connections == 0 and standin.requests == []


async def test_redirect_to_ipv6_loopback_never_reaches_it(
    origin: LoopbackServer, standin6: LoopbackServer, make_fetcher: Any
) -> None:
    origin.routes["/hop1"] = redirect("/hop2", 301)
    origin.routes["/hop2"] = redirect(f"http://[::1]:{standin6.port}/secret", 308)
    fetcher = make_fetcher()
    with pytest.raises(SecurityViolation) as caught:
        await fetcher.fetch(origin.url("/hop1"))
    assert caught.value.rule == "loopback"
    assert origin.paths() == ["/hop1", "/hop2"]
    assert standin6.connections == 0


async def test_allowed_redirects_are_followed_and_reported(
    origin: LoopbackServer, make_fetcher: Any
) -> None:
    origin.routes |= {"/a": redirect("/b"), "/b": redirect(origin.url("/page")), "/page": PAGE}
    page = await make_fetcher().fetch(origin.url("/a"))
    assert (page.status, page.url, page.final_url) == (200, origin.url("/a"), origin.url("/page"))


async def test_redirect_loop_and_long_chains_stop(
    origin: LoopbackServer, make_fetcher: Any
) -> None:
    origin.routes |= {"/loop-a": redirect("/loop-b"), "/loop-b": redirect("/loop-a")}
    origin.routes |= {f"/r{i}": redirect(f"/r{i + 1}") for i in range(10)}
    fetcher = make_fetcher()
    with pytest.raises(BackendError, match="redirect loop"):
        await fetcher.fetch(origin.url("/loop-a"))
    assert origin.paths() == ["/loop-a", "/loop-b"]
    with pytest.raises(BackendError, match="more than 5 times"):
        await fetcher.fetch(origin.url("/r0"))
    assert origin.paths()[2:] == [f"/r{i}" for i in range(6)]


async def test_dns_rebinding_cannot_move_a_vetted_host(
    origin: LoopbackServer, standin6: LoopbackServer, make_fetcher: Any
) -> None:
    """First lookup says 127.0.0.1 (allowed), every later one says ::1 (forbidden)."""
    host = f"rebind.test:{origin.port}"
    origin.routes |= {"/page": PAGE, "/again": redirect("/page")}
    resolver = ScriptedResolver({"rebind.test": [["127.0.0.1"], ["::1"]]})
    fetcher = make_fetcher(resolver=resolver)
    page = await fetcher.fetch(f"http://{host}/page")
    assert page.status == 200 and resolver.lookups == ["rebind.test"]
    assert fetcher.backend.connects == [("127.0.0.1", origin.port)]
    assert origin.requests[0].headers["Host"] == host
    with pytest.raises(SecurityViolation) as caught:  # the rebound answer is vetted and refused
        await fetcher.fetch(f"http://{host}/again")
    assert caught.value.rule == "loopback"
    assert standin6.connections == 0
    assert {addr for addr, _ in fetcher.backend.connects} == {"127.0.0.1"}


async def test_rebinding_during_robots_lookup_is_refused(
    origin: LoopbackServer, standin6: LoopbackServer, make_fetcher: Any
) -> None:
    origin.routes["/page"] = PAGE
    resolver = ScriptedResolver({"rebind.test": [["127.0.0.1"], ["::1"]]})
    fetcher = make_fetcher(resolver=resolver, respect_robots=True)
    with pytest.raises(SecurityViolation):
        await fetcher.fetch(f"http://rebind.test:{origin.port}/page")
    assert origin.paths() == ["/robots.txt"]
    assert standin6.connections == 0


@pytest.mark.parametrize("sized", [True, False])
async def test_body_over_the_default_cap_is_refused(
    sized: bool, origin: LoopbackServer, make_fetcher: Any
) -> None:
    big = 6_000_000
    body = b"x" * big if sized else chunks(big)
    origin.routes["/big"] = Reply(200, body, {"Content-Type": "text/plain"})
    fetcher = make_fetcher()
    assert fetcher.web.max_bytes == 5_000_000
    with pytest.raises(SecurityViolation) as caught:
        await fetcher.fetch(origin.url("/big"))
    assert caught.value.rule == "max-bytes"


async def test_gzip_bomb_stops_at_the_cap_without_inflating_in_memory(
    origin: LoopbackServer, make_fetcher: Any
) -> None:
    bomb = gzip.compress(b"\0" * 40_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    headers = {"Content-Type": "text/html", "Content-Encoding": "gzip"}
    origin.routes["/bomb"] = Reply(200, bomb, headers)
    fetcher = make_fetcher(max_bytes=1_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(SecurityViolation) as caught:
            await fetcher.fetch(origin.url("/bomb"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.rule == "decompression-bomb"
    assert peak < 8_000_000  # the 40 MB payload was never materialised


@pytest.mark.parametrize(
    "location",
    ["http://0177.0.0.2/secret", "http://0177.0.0.1:{port}/secret", "http://[::1/secret"],
)
async def test_redirect_httpx_cannot_parse_is_still_a_security_violation(
    location: str, origin: LoopbackServer, standin: LoopbackServer, make_fetcher: Any
) -> None:
    """httpx rejects these Location values itself; autan must vet the raw header first."""
    origin.routes["/go"] = redirect(location.format(port=standin.port))
    fetcher = make_fetcher()
    with pytest.raises(SecurityViolation) as caught:
        await fetcher.fetch(origin.url("/go"))
    assert caught.value.rule in {"ip-encoding", "host-syntax"}
    assert standin.connections == 0 and standin.requests == []
    assert origin.paths() == ["/go"]

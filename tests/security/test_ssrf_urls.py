"""≥ 50 forbidden URL forms: each is refused with SecurityViolation naming its rule, and no
connection of any kind is attempted (a recording network backend sees nothing)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from autan.errors import SecurityViolation
from autan.tools.web.testing import ScriptedResolver
from autan.tools.web.urls import parse_url, whatwg_ipv4

pytestmark = pytest.mark.security


def _teredo(client: str, server: str = "8.8.8.8") -> str:
    s = int(ipaddress.IPv4Address(server))
    c = int(ipaddress.IPv4Address(client)) ^ 0xFFFFFFFF
    return str(ipaddress.IPv6Address((0x20010000 << 96) | (s << 64) | c))


FORBIDDEN: list[tuple[str, str]] = [
    ("http://127.0.0.1/", "loopback"),
    ("http://127.0.0.2:8080/admin", "loopback"),
    ("http://127.0.0.1./", "loopback"),
    ("http://localhost/", "loopback"),
    ("http://LOCALHOST./", "loopback"),
    ("http://admin.localhost/", "loopback"),
    ("http://127.1/", "ip-encoding"),
    ("http://0x7f.1/", "ip-encoding"),
    ("http://2130706433/", "ip-encoding"),
    ("http://0177.0.0.1/", "ip-encoding"),
    ("http://0x7f000001/", "ip-encoding"),
    ("http://017700000001/", "ip-encoding"),
    ("http://127.000.000.001/", "ip-encoding"),
    ("https://0x7f.0x0.0x0.0x1/", "ip-encoding"),
    ("http://0/", "ip-encoding"),
    ("http://0xa9fea9fe/", "ip-encoding"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://10.0.0.1/", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://169.254.170.2/v2/credentials", "link-local"),
    ("http://100.64.0.1/", "cgnat"),
    ("http://100.127.255.254/", "cgnat"),
    ("http://224.0.0.1/", "multicast"),
    ("http://239.255.255.250/", "multicast"),
    ("http://255.255.255.255/", "broadcast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://198.18.0.1/", "reserved"),
    ("http://192.0.2.10/", "documentation"),
    ("http://198.51.100.7/", "documentation"),
    ("http://203.0.113.9/", "documentation"),
    ("http://[::1]/", "loopback"),
    ("http://[0:0:0:0:0:0:0:1]:8080/", "loopback"),
    ("http://[::]/", "unspecified"),
    ("http://[fd00:ec2::254]/latest/", "unique-local"),
    ("http://[fc00::1]/", "unique-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[ff02::1]/", "multicast"),
    ("http://[2001:db8::1]/", "documentation"),
    ("http://[::ffff:127.0.0.1]/", "ipv4-mapped-loopback"),
    ("http://[::ffff:a9fe:a9fe]/", "ipv4-mapped-link-local"),
    ("http://[::ffff:10.1.2.3]/", "ipv4-mapped-private"),
    ("http://[::127.0.0.1]/", "ipv4-compatible-loopback"),
    ("http://[64:ff9b::a9fe:a9fe]/", "nat64-link-local"),
    ("http://[64:ff9b::127.0.0.1]/", "nat64-loopback"),
    ("http://[2002:7f00:1::]/", "6to4-loopback"),
    ("http://[2002:a9fe:a9fe::1]/", "6to4-link-local"),
    (f"http://[{_teredo('127.0.0.1')}]/", "teredo-loopback"),
    (f"http://[{_teredo('192.168.0.1')}]/", "teredo-private"),
    ("http://[fe80::1%25eth0]/", "host-encoding"),
    ("http://%31%32%37.0.0.1/", "host-encoding"),
    ("file:///etc/passwd", "scheme"),
    ("gopher://127.0.0.1:70/_stats", "scheme"),
    ("dict://127.0.0.1:11211/stat", "scheme"),
    ("ftp://example.com/", "scheme"),
    ("javascript:alert(1)", "scheme"),
    ("data:text/html,hello", "scheme"),
    ("//example.com/", "scheme"),
    ("http:/example.com/", "url-syntax"),
    ("http://user:pass@example.com/", "userinfo"),
    ("http://example.com@127.0.0.1/", "userinfo"),
    ("http://127.0.0.1%2f@example.com/", "userinfo"),
    ("http://127.0.0.1#@example.com/", "loopback"),
    ("http://example.com\\@127.0.0.1/", "url-backslash"),
    ("http:\\\\127.0.0.1\\", "url-backslash"),
    (" http://example.com/", "url-whitespace"),
    ("http://example.com/\r\nHost: 127.0.0.1", "url-whitespace"),
    ("http://exa\tmple.com/", "url-whitespace"),
    ("http://127.0.0.1\x00.example.com/", "url-whitespace"),
    ("http://127。0。0。1/", "idn-dot"),
    ("http://127．0．0．1/", "idn-dot"),
    ("http://127｡0｡0｡1/", "idn-dot"),
    ("http://１２７.０.０.１/", "idn-confusable"),
    ("http://ｌｏｃａｌｈｏｓｔ/", "idn-confusable"),
    ("http://example.com:0/", "port"),
    ("http://example.com:65536/", "port"),
    ("http://example.com:-1/", "port"),
    ("http://example.com:80a/", "port"),
    ("http://1.2.3.4.5/", "host-syntax"),
    ("http://[::1/", "host-syntax"),
    ("http://exa_mple..com/", "host-syntax"),
    ("http://metadata.test/computeMetadata/v1/", "link-local"),
    ("http://mixed.test/", "private"),
    ("http://mixed6.test/", "loopback"),
    ("http://rebound.test/", "ipv4-mapped-loopback"),
]

RESOLVER_ANSWERS = {
    "metadata.test": [["169.254.169.254"]],
    "mixed.test": [["93.184.215.14", "10.0.0.5"]],
    "mixed6.test": [["2606:4700::1111", "::1"]],
    "rebound.test": [["::ffff:127.0.0.1"]],
}


def test_the_table_is_large_and_distinct() -> None:
    assert len(FORBIDDEN) >= 50
    assert len({url for url, _ in FORBIDDEN}) == len(FORBIDDEN)


@pytest.mark.parametrize(("url", "rule"), FORBIDDEN, ids=[repr(u)[1:40] for u, _ in FORBIDDEN])
async def test_forbidden_url_is_refused_before_any_connection(
    url: str, rule: str, make_fetcher: Any
) -> None:
    fetcher = make_fetcher(resolver=ScriptedResolver(RESOLVER_ANSWERS), respect_robots=True)
    with pytest.raises(SecurityViolation) as caught:
        await fetcher.fetch(url)
    assert caught.value.rule == rule
    assert f"rule: {rule}" in caught.value.message
    assert fetcher.backend.connects == []


PUBLIC = [
    ("https://example.com/", "https://example.com/"),
    ("HTTPS://Example.COM:443/a?b=c#frag", "https://example.com/a?b=c"),
    ("http://example.com:8080", "http://example.com:8080/"),
    ("http://93.184.215.14/index.html", "http://93.184.215.14/index.html"),
    ("http://[2606:4700:4700::1111]/dns", "http://[2606:4700:4700::1111]/dns"),
    ("http://münchen.de/", "http://xn--mnchen-3ya.de/"),
    ("https://sub_domain.example.org./x", "https://sub_domain.example.org/x"),
    ("http://[::ffff:8.8.8.8]/", "http://[::ffff:808:808]/"),
]


@pytest.mark.parametrize(("url", "canonical"), PUBLIC)
async def test_public_urls_pass_validation(url: str, canonical: str, make_fetcher: Any) -> None:
    assert parse_url(url).url == canonical
    resolver = ScriptedResolver({"example.com": [["93.184.215.14"]]})
    transport = make_fetcher(resolver=resolver).transport
    if parse_url(url).host in ("example.com", "93.184.215.14", "2606:4700:4700::1111"):
        host, port, address = await transport.vet(url)
        assert str(address) in ("93.184.215.14", "2606:4700:4700::1111")


@pytest.mark.parametrize(
    ("host", "address"),
    [("127.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("2130706433", "127.0.0.1"),
     ("0177.0.0.1", "127.0.0.1"), ("10.1", "10.0.0.1"), ("192.168.257", "192.168.1.1"),
     ("1.2.3.4.5", None), ("256.1.1.1", None), ("0x", "0.0.0.0"), ("08.1.1.1", None)],
)  # fmt: skip
def test_whatwg_ipv4_reads_hosts_as_browsers_do(host: str, address: str | None) -> None:
    decoded = whatwg_ipv4(host)
    assert (str(decoded) if decoded else None) == address

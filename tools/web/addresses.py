"""Which IP addresses the web tools may connect to: public unicast only, judged per address.

Every rule has a name; a refusal is a ``SecurityViolation`` whose ``rule`` is that name, so a
caller (and the planner reading the tool result) can tell *why* an address was refused.
IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are judged by
the address they embed as well as by their own range.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from autan.errors import SecurityViolation

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4_RULES: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "cgnat"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "reserved"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "reserved"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("240.0.0.0/4", "reserved"),
)
_V6_RULES: tuple[tuple[str, str], ...] = (
    ("fc00::/7", "unique-local"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("100::/64", "reserved"),
    ("64:ff9b:1::/48", "nat64-local"),
)
_V4_NETS = tuple((ipaddress.IPv4Network(n), rule) for n, rule in _V4_RULES)
_V6_NETS = tuple((ipaddress.IPv6Network(n), rule) for n, rule in _V6_RULES)
_EXACT_V6 = {
    ipaddress.IPv6Address("::"): "unspecified",
    ipaddress.IPv6Address("::1"): "loopback",
}
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")


def _embedded_v4(ip: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries, with the name of the form carrying them."""
    found: list[tuple[str, ipaddress.IPv4Address]] = []
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        found.append(("ipv4-mapped", ip.ipv4_mapped))
    elif ip in _COMPATIBLE:
        found.append(("ipv4-compatible", low32))
    elif ip in _TRANSLATED:
        found.append(("ipv4-translated", low32))
    elif ip in _NAT64:
        found.append(("nat64", low32))
    if ip.sixtofour is not None:
        found.append(("6to4", ip.sixtofour))
    if ip.teredo is not None:
        server, client = ip.teredo
        found += [("teredo", server), ("teredo", client)]
    return found


def forbidden_rule(ip: IPAddress) -> str | None:
    """The name of the rule that forbids connecting to ``ip``, or None for a public address."""
    if isinstance(ip, ipaddress.IPv4Address):
        for net4, rule in _V4_NETS:
            if ip in net4:
                return rule
        return None if ip.is_global else "non-global"
    if ip in _EXACT_V6:
        return _EXACT_V6[ip]
    for form, v4 in _embedded_v4(ip):
        inner = forbidden_rule(v4)
        if inner is not None:
            return f"{form}-{inner}"
    if ip in _COMPATIBLE:
        return "ipv4-compatible"
    for net6, rule in _V6_NETS:
        if ip in net6:
            return rule
    return None if (ip.is_global or ip.sixtofour or ip.teredo) else "non-global"


@dataclass(frozen=True)
class AddressPolicy:
    """Judges resolved addresses; ``loopback_ports`` opens 127.0.0.1 on those ports, for tests.

    It is set from settings or a constructor, never from tool arguments.
    """

    loopback_ports: frozenset[int] = field(default_factory=frozenset)

    def rule_for(self, ip: IPAddress, port: int) -> str | None:
        """The rule forbidding ``ip:port``, or None when the connection is allowed."""
        rule = forbidden_rule(ip)
        if rule == "loopback" and port in self.loopback_ports and _plain_loopback(ip):
            return None
        return rule

    def check(self, host: str, port: int, addresses: Iterable[IPAddress]) -> None:
        """Refuse unless every address ``host`` resolved to is allowed (one bad one is enough)."""
        addresses = list(addresses)
        if not addresses:
            raise SecurityViolation(f"{host} resolved to no address", rule="no-address")
        for ip in addresses:
            rule = self.rule_for(ip, port)
            if rule is not None:
                raise SecurityViolation(
                    f"refused {host}:{port}: address {ip} is {rule} (rule: {rule})",
                    rule=rule,
                    hint="the web tools only reach public internet addresses",
                )


def _plain_loopback(ip: IPAddress) -> bool:
    return str(ip) == "127.0.0.1"

"""Strict URL parsing: one canonical http(s) URL or a ``SecurityViolation`` naming the rule.

Parsers disagree on odd URLs (``http://127.1``, ``http://a@b@c``, ``http://x。y``); an agent
fetching model-written URLs must not let such a disagreement pick the host. So anything ambiguous
is refused here, before any lookup, and the URL handed to httpx is rebuilt from the parsed parts.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urljoin

import idna

from autan.errors import SecurityViolation

MAX_URL_CHARS = 2048
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_IDN_DOTS = "\u3002\uff0e\uff61\u2024\ufe52"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


@dataclass(frozen=True)
class Target:
    """A parsed URL: ``host`` is lower-case ASCII (IPv6 without brackets), ``url`` is canonical."""

    scheme: str
    host: str
    port: int
    url: str
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None

    @property
    def origin(self) -> str:
        """``scheme://host:port`` — the unit robots.txt, limits and pinning work per."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def refuse(message: str, rule: str) -> SecurityViolation:
    """The error for a refused URL; the message names the rule."""
    return SecurityViolation(
        f"{message} (rule: {rule})", rule=rule, hint="give a plain public http(s) URL"
    )


def parse_url(raw: str) -> Target:
    """Parse ``raw`` strictly; raise ``SecurityViolation`` for anything not plainly http(s)."""
    if not isinstance(raw, str) or not raw:
        raise refuse("not a URL", "url-syntax")
    return _parse(raw)


def redirect_target(base: str, location: str) -> Target:
    """The hop a redirect from ``base`` to the raw ``Location`` value asks for, parsed strictly.

    Called on the raw header before httpx reads it: httpx rejects some forbidden spellings
    (``http://0177.0.0.2/``) itself, which would surface as a backend error, not a refusal.
    """
    try:
        joined = urljoin(base, location)
    except ValueError:
        raise refuse(f"redirect to malformed URL {location!r}", "host-syntax") from None
    return parse_url(joined)


@functools.lru_cache(maxsize=4096)
def _parse(raw: str) -> Target:
    """Pure, so cached: the fetcher and the transport both parse every URL of every hop."""
    if len(raw) > MAX_URL_CHARS:
        raise refuse(f"URL longer than {MAX_URL_CHARS} characters", "url-too-long")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        raise refuse(f"URL {raw!r} contains whitespace or control characters", "url-whitespace")
    if "\\" in raw:
        raise refuse(f"URL {raw!r} contains a backslash", "url-backslash")
    match = _SCHEME.match(raw)
    scheme = match.group(1).lower() if match else ""
    if scheme not in _DEFAULT_PORTS:
        raise refuse(f"scheme {scheme or '(none)'!r} is not http or https", "scheme")
    rest = raw[match.end() :] if match else raw
    if not rest.startswith("//"):
        raise refuse(f"URL {raw!r} has no //host part", "url-syntax")
    authority, path = _split_authority(rest[2:])
    host, port = _split_host_port(authority, scheme)
    ip = _as_ip(host)
    shown = f"[{host}]" if ip is not None and ip.version == 6 else host
    port_part = "" if port == _DEFAULT_PORTS[scheme] else f":{port}"
    return Target(scheme, host, port, f"{scheme}://{shown}{port_part}{path}", ip)


def _split_authority(rest: str) -> tuple[str, str]:
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, path = rest[:end], rest[end:].split("#", 1)[0]
    if not path.startswith("/"):
        path = "/" + path
    if "@" in authority:
        raise refuse(f"userinfo in {authority!r} is not allowed", "userinfo")
    if "%" in authority:
        raise refuse(f"percent-encoding in host {authority!r} is not allowed", "host-encoding")
    if not authority:
        raise refuse("URL has an empty host", "host-syntax")
    return authority, path


def _split_host_port(authority: str, scheme: str) -> tuple[str, int]:
    if authority.startswith("["):
        host, sep, tail = authority[1:].partition("]")
        if not sep or (tail and not tail.startswith(":")):
            raise refuse(f"malformed IPv6 host {authority!r}", "host-syntax")
        port_text = tail[1:] if tail else None
        try:
            return str(ipaddress.IPv6Address(host)), _port(port_text, scheme)
        except ipaddress.AddressValueError:
            raise refuse(f"malformed IPv6 address {host!r}", "host-syntax") from None
    host, sep, port_text = authority.rpartition(":")
    if not sep:
        host, port_text = authority, ""
    return _hostname(host), _port(port_text if sep else None, scheme)


def _port(text: str | None, scheme: str) -> int:
    if text is None:
        return _DEFAULT_PORTS[scheme]
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        raise refuse(f"port {text!r} is not a number", "port")
    port = int(text)
    if not 0 < port < 65536:
        raise refuse(f"port {port} is out of range", "port")
    return port


def _hostname(host: str) -> str:
    if any(dot in host for dot in _IDN_DOTS):
        raise refuse(f"host {host!r} uses a non-ASCII dot", "idn-dot")
    if not host.isascii():
        host = _idna_ascii(host)
    host = host.lower()
    bare = host[:-1] if host.endswith(".") else host
    labels = bare.split(".")
    if _looks_numeric(labels[-1]):
        return _numeric_host(bare)
    if len(bare) > 253 or not all(_LABEL.match(label) for label in labels):
        raise refuse(f"host {host!r} is not a valid host name", "host-syntax")
    if bare in _LOCAL_NAMES or bare.endswith(".localhost"):
        raise refuse(f"host {host!r} names this machine", "loopback")
    return bare


def _idna_ascii(host: str) -> str:
    folded = unicodedata.normalize("NFKC", host)
    if folded.isascii():
        raise refuse(f"host {host!r} hides an ASCII host {folded!r}", "idn-confusable")
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise refuse(f"host {host!r} is not a valid IDN: {exc}", "host-syntax") from None


def _looks_numeric(label: str) -> bool:
    if label.isdigit():
        return True
    return label[:2] in ("0x", "0X") and all(c in "0123456789abcdefABCDEF" for c in label[2:])


def _numeric_host(host: str) -> str:
    """A host ending in a number is an IPv4 address; only canonical dotted-decimal passes."""
    try:
        canonical = str(ipaddress.IPv4Address(host))
    except ipaddress.AddressValueError:
        canonical = ""
    if canonical == host:
        return host
    decoded = whatwg_ipv4(host)
    if decoded is None:
        raise refuse(f"host {host!r} is not a valid IPv4 address", "host-syntax")
    raise refuse(f"host {host!r} is a non-canonical spelling of {decoded}", "ip-encoding")


def whatwg_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address a browser reads in ``host`` (``127.1``, ``0x7f.1``, ``2130706433``...)."""
    parts = host.split(".")
    if len(parts) > 4 or "" in parts:
        return None
    numbers: list[int] = []
    for part in parts:
        base, digits = 10, part
        if part[:2] in ("0x", "0X"):
            base, digits = 16, part[2:] or "0"
        elif len(part) > 1 and part.startswith("0"):
            base, digits = 8, part[1:]
        try:
            numbers.append(int(digits, base))
        except ValueError:
            return None
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        return None
    value = numbers[-1] + sum(n << (8 * (3 - i)) for i, n in enumerate(numbers[:-1]))
    return ipaddress.IPv4Address(value)


def _as_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None

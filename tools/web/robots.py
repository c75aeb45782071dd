"""robots.txt per origin, parsed by protego, kept in memory for the cache TTL.

RFC 9309: a 4xx robots.txt means "no rules"; a 5xx one means "disallow all". A host that
does not resolve raises ``HostNotResolved``; a site that cannot be reached at all is a runtime
failure (``BackendError``), not a refusal. A disallowed URL is a ``PolicyRefusal`` (the site's
stated wish), not a ``SecurityViolation``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from protego import Protego  # type: ignore[import-untyped]

from autan.errors import PolicyRefusal
from autan.tools.web.urls import Target

# (status, text) of GET /robots.txt on an origin, through the same safe client as any page;
# status 599 stands for "unreachable". A refused address raises (the page would be refused too).
RobotsGetter = Callable[[Target], Awaitable[tuple[int, str]]]

_DISALLOW_ALL = "User-agent: *\nDisallow: /\n"


class RobotsRules:
    """Decides whether ``user_agent`` may fetch a URL; fetches each origin's rules at most once."""

    def __init__(self, user_agent: str, ttl_s: float, get: RobotsGetter) -> None:
        self._agent = user_agent.split("/", 1)[0]
        self._ttl_s, self._get = ttl_s, get
        self._rules: dict[str, tuple[float, Protego]] = {}

    async def check(self, target: Target) -> None:
        """Raise ``PolicyRefusal`` (rule ``robots-txt``) if robots.txt disallows ``target``."""
        rules = await self._rules_for(target)
        if not rules.can_fetch(target.url, self._agent):
            raise PolicyRefusal(
                f"robots.txt of {target.origin} disallows {target.url} (rule: robots-txt)",
                rule="robots-txt",
                hint="the site asks automated agents not to fetch this page",
            )

    async def _rules_for(self, target: Target) -> Protego:
        cached = self._rules.get(target.origin)
        if cached is not None and time.monotonic() - cached[0] < self._ttl_s:
            return cached[1]
        status, text = await self._get(target)
        if status >= 500:
            text = _DISALLOW_ALL
        elif status >= 400:
            text = ""
        rules = Protego.parse(text)
        self._rules[target.origin] = (time.monotonic(), rules)
        return rules

"""Limits rail: input size, tool calls per turn and a per-session rate limit."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from autan.guards.base import RailSpec, Stage, Verdict


@dataclass
class LimitsRail:
    """Blocks text over ``max_chars``, turns over ``max_tool_calls`` and sessions over the rate.

    The rate counts checks per session (``ctx["run_id"]``) in a sliding window; the tool-call
    count comes from ``ctx["tool_calls"]`` (the graph passes the calls made this turn).
    """

    spec: RailSpec = field(default_factory=lambda: RailSpec("block", 0.5))
    max_chars: int = 32_000
    max_tool_calls: int = 24
    rate_per_minute: int = 60
    window_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    name: str = "limits"
    _seen: dict[str, deque[float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def check(self, text: str, stage: Stage, ctx: Mapping[str, Any]) -> Verdict:
        """Judge ``text`` and the run facts in ``ctx``; never raises."""
        reasons = []
        if self.max_chars and len(text) > self.max_chars:
            reasons.append(f"text of {len(text)} characters exceeds {self.max_chars}")
        calls = ctx.get("tool_calls")
        if self.max_tool_calls and isinstance(calls, int) and calls > self.max_tool_calls:
            reasons.append(f"{calls} tool calls this turn exceed {self.max_tool_calls}")
        if self.rate_per_minute and self._over_rate(str(ctx.get("run_id") or "anonymous")):
            reasons.append(f"more than {self.rate_per_minute} requests per minute in this session")
        return self.spec.decide(self.name, text, 1.0 if reasons else 0.0, reasons)

    def _over_rate(self, session: str) -> bool:
        now = self.clock()
        with self._lock:
            seen = self._seen.setdefault(session, deque())
            while seen and now - seen[0] > self.window_s:
                seen.popleft()
            seen.append(now)
            return len(seen) > self.rate_per_minute

"""Prometheus metrics for ``autan serve``: ``GET /metrics`` in text exposition format 0.0.4.

Counters and one latency histogram kept in memory (per server process), written out in the
plain text format by hand: no client library needed. Routes are labelled by their template
(``/v1/runs/{run_id}``), never by the concrete path, so the label set stays small.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Labels = tuple[tuple[str, str], ...]
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
HELP = {
    "autan_http_requests_total": "HTTP requests by route template, method and status.",
    "autan_http_request_duration_seconds": "HTTP request latency by route template.",
    "autan_runs_started_total": "Agent runs started.",
    "autan_runs_finished_total": "Agent runs that ended, by final status.",
    "autan_runs_failed_total": "Agent runs that failed.",
    "autan_tool_calls_total": "Tool calls by tool and outcome (ok or error).",
    "autan_guard_blocks_total": "Guard verdicts that blocked, by rail.",
    "autan_tokens_total": "Model tokens by direction (in or out).",
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: Labels = ()) -> str:
    pairs = labels + extra
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    """The server's counters and request-latency histogram; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = {}
        self._hist: dict[Labels, list[float]] = {}  # bucket counts + [sum, count]

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` to counter ``name`` with these labels."""
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._counters.setdefault(name, {})
            series[key] = series.get(key, 0.0) + amount

    def observe(self, seconds: float, **labels: str) -> None:
        """Record one request's latency."""
        key = tuple(sorted(labels.items()))
        with self._lock:
            row = self._hist.setdefault(key, [0.0] * (len(BUCKETS) + 2))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    row[i] += 1
            row[-2] += seconds
            row[-1] += 1

    def value(self, name: str, **labels: str) -> float:
        """One counter's current value (0 when never incremented)."""
        with self._lock:
            return self._counters.get(name, {}).get(tuple(sorted(labels.items())), 0.0)

    def text(self) -> str:
        """Everything in the Prometheus text format."""
        lines: list[str] = []
        with self._lock:
            for name in HELP:
                if name == "autan_http_request_duration_seconds":
                    lines += self._histogram_lines(name)
                    continue
                lines += [f"# HELP {name} {HELP[name]}", f"# TYPE {name} counter"]
                for labels, value in sorted(self._counters.get(name, {}).items()):
                    lines.append(f"{name}{_labels(labels)} {value:g}")
        return "\n".join(lines) + "\n"

    def _histogram_lines(self, name: str) -> list[str]:
        lines = [f"# HELP {name} {HELP[name]}", f"# TYPE {name} histogram"]
        for labels, row in sorted(self._hist.items()):
            for bound, count in zip(BUCKETS, row, strict=False):
                lines.append(f"{name}_bucket{_labels(labels, (('le', f'{bound:g}'),))} {count:g}")
            lines.append(f"{name}_bucket{_labels(labels, (('le', '+Inf'),))} {row[-1]:g}")
            lines.append(f"{name}_sum{_labels(labels)} {row[-2]:.6f}")
            lines.append(f"{name}_count{_labels(labels)} {row[-1]:g}")
        return lines

    def run_event(self, kind: str, data: dict[str, Any]) -> None:
        """Count what one agent-run event says: tool outcomes, guard blocks, tokens."""
        if kind == "tool_result":
            ok = (data.get("result") or {}).get("ok", True) is not False
            self.inc("autan_tool_calls_total", tool=str(data.get("name")), outcome=_ok(ok))
        elif kind == "guard" and data.get("action") == "block":
            self.inc("autan_guard_blocks_total", rail=str(data.get("rail")))
        elif kind == "answer":
            usage = data.get("usage") or {}
            self.inc("autan_tokens_total", float(usage.get("input_tokens") or 0), direction="in")
            self.inc("autan_tokens_total", float(usage.get("output_tokens") or 0), direction="out")

    def run_ended(self, status: str) -> None:
        """Count a run that ended (``done``, ``interrupted``, ``failed``)."""
        self.inc("autan_runs_finished_total", status=status)
        if status == "failed":
            self.inc("autan_runs_failed_total")


def _ok(ok: bool) -> str:
    return "ok" if ok else "error"


def route_of(routes: Iterable[BaseRoute], scope: Scope) -> str:
    """The template of the route a request matches, or ``other``."""
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return str(getattr(route, "path", "other")) or "other"
    return "other"


def method_of(scope: Scope) -> str:
    """The request method as a label: a standard one, else ``other`` (clients pick any token)."""
    method = str(scope.get("method", ""))
    return method if method in METHODS else "other"


class MetricsMiddleware:
    """Count and time every HTTP request (outermost, so refusals by the gate count too)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: list[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; note its status and how long it took."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            route = route_of(self.routes, scope)
            method = method_of(scope)
            code = str(status["code"])
            self.metrics.inc("autan_http_requests_total", route=route, method=method, status=code)
            self.metrics.observe(time.perf_counter() - started, route=route)


async def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics``: the server's metrics in the Prometheus text format."""
    state = request.app.state.autan
    return Response(state.metrics.text(), media_type=CONTENT_TYPE)

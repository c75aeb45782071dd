"""OpenTelemetry traces of runs, nodes, model calls, tool calls, guard checks and sandbox runs.

Nothing is exported by default. Tracing turns on when the standard OpenTelemetry variables name
an OTLP endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``; spans
go out over OTLP/HTTP) or when a program hands autan its own tracer provider with ``configure``.
``OTEL_SDK_DISABLED=true`` turns it off. Span names and attributes follow the OpenTelemetry GenAI
semantic conventions (``gen_ai.*``); autan's own facts use the ``autan.*`` namespace. When tracing
is off, ``span`` costs one function call and no import of OpenTelemetry.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from autan.errors import ConfigError

Attributes = Mapping[str, Any]
_ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


class _State:
    """The tracer autan uses, decided once per process (or set by ``configure``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.decided = False
        self.tracer: Any = None
        self.provider: Any = None


_STATE = _State()


def _from_env() -> Any:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if not any(os.environ.get(v) for v in _ENDPOINT_VARS):
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ModuleNotFoundError:
        raise ConfigError(
            "an OTLP endpoint is set, but OpenTelemetry is not installed",
            hint="pip install 'autan[tracing]', or unset OTEL_EXPORTER_OTLP_ENDPOINT",
        ) from None
    service = os.environ.get("OTEL_SERVICE_NAME", "autan")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    atexit.register(provider.shutdown)
    return provider


def _use(provider: Any | None) -> None:
    _STATE.provider = provider
    _STATE.tracer = None if provider is None else provider.get_tracer("autan")
    _STATE.decided = True


def configure(provider: Any | None) -> None:
    """Send autan's spans to ``provider`` (an OpenTelemetry TracerProvider); None turns them off."""
    with _STATE.lock:
        _use(provider)


def reset() -> None:
    """Flush what is pending and decide again from the environment on next use."""
    flush()
    with _STATE.lock:
        _STATE.decided = False
        _STATE.tracer = _STATE.provider = None


def flush(timeout_ms: int = 10_000) -> None:
    """Export the spans still buffered (the CLI calls this before it exits)."""
    provider = _STATE.provider
    if provider is not None and hasattr(provider, "force_flush"):
        provider.force_flush(timeout_ms)


def tracer() -> Any:
    """The tracer, or None when tracing is off (decided from the environment on first use)."""
    if not _STATE.decided:
        with _STATE.lock:
            if not _STATE.decided:
                _use(_from_env())
    return _STATE.tracer


def enabled() -> bool:
    """Whether spans are being recorded."""
    return tracer() is not None


class _NoSpan:
    """What ``span`` yields when tracing is off: attribute calls do nothing."""

    def set_attribute(self, key: str, value: Any) -> None:
        """Ignore the attribute."""

    def set_attributes(self, attributes: Attributes) -> None:
        """Ignore the attributes."""

    def record_error(self, kind: str, message: str) -> None:
        """Ignore the error."""


_NO_SPAN = _NoSpan()


class _Span:
    """A live span with autan's small helper for failures reported as data."""

    def __init__(self, span: Any) -> None:
        self.span = span

    def set_attribute(self, key: str, value: Any) -> None:
        """Set one attribute (None values are skipped)."""
        if value is not None:
            self.span.set_attribute(key, value)

    def set_attributes(self, attributes: Attributes) -> None:
        """Set several attributes (None values are skipped)."""
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def record_error(self, kind: str, message: str) -> None:
        """Mark the span failed with ``error.type`` (a tool result with ``ok: false``)."""
        from opentelemetry.trace import Status, StatusCode

        self.span.set_attribute("error.type", kind)
        self.span.set_status(Status(StatusCode.ERROR, message[:200]))


@contextmanager
def span(name: str, attributes: Attributes | None = None) -> Iterator[_Span | _NoSpan]:
    """A child span of the current one for the block (a no-op when tracing is off)."""
    t = tracer()
    if t is None:
        yield _NO_SPAN
        return
    attrs = {k: v for k, v in (attributes or {}).items() if v is not None}
    with t.start_as_current_span(name, attributes=attrs) as live:
        yield _Span(live)


def digest(value: Any) -> str:
    """A SHA-256 of a JSON value: tool arguments are traced as hashes, never as text."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def record_result(live: _Span | _NoSpan, result: Mapping[str, Any]) -> None:
    """Put a tool result's outcome on its span (``ok: false`` marks the span failed)."""
    error = result.get("error") or {}
    if not result.get("ok") and isinstance(error, Mapping):
        live.record_error(str(error.get("type", "error")), str(error.get("message", "")))

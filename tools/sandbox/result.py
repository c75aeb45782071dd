"""ExecResult: what one sandboxed call returns to the planner, always as data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from autan.errors import AutanError


@dataclass
class ExecResult:
    """``{ok, stdout, stderr, error{type,message,traceback}, duration_ms, truncated, files}``."""

    ok: bool
    stdout: str = ""
    stderr: str = ""
    error: dict[str, str] | None = None
    duration_ms: float = 0.0
    truncated: bool = False
    files: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object the ``python`` and ``run_command`` tools return."""
        return asdict(self)

    @classmethod
    def from_reply(cls, reply: dict[str, Any]) -> ExecResult:
        """Build from the worker's JSON reply, keeping only the known keys."""
        error = reply.get("error")
        if error is not None:
            error = {k: str(error.get(k, "")) for k in ("type", "message", "traceback")}
        return cls(
            ok=bool(reply.get("ok")) and error is None,
            stdout=str(reply.get("stdout", "")),
            stderr=str(reply.get("stderr", "")),
            error=error,
            duration_ms=float(reply.get("duration_ms", 0.0)),
            truncated=bool(reply.get("truncated", False)),
            files=list(reply.get("files") or []),
        )

    @classmethod
    def failure(cls, error_type: str, message: str, duration_ms: float = 0.0) -> ExecResult:
        """A result for a call that could not run or whose worker was lost."""
        return cls(
            ok=False,
            error={"type": error_type, "message": message, "traceback": ""},
            duration_ms=round(duration_ms, 2),
        )

    @classmethod
    def from_error(cls, exc: AutanError) -> ExecResult:
        """Bad input or limits, reported as data like any other failure."""
        return cls.failure(type(exc).__name__, exc.one_line())

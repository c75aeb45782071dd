"""Executors for sandbox tests: the real bubblewrap backend and the unsafe host for contrast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autan.config import SandboxSettings, load_settings
from autan.tools.sandbox import SandboxExecutor

BACKENDS = ("bubblewrap", "unsafe-host")
EXACT_KEYS = {"ok", "stdout", "stderr", "error", "duration_ms", "truncated", "files"}


def sandbox_settings(backend: str = "bubblewrap", **overrides: Any) -> SandboxSettings:
    """Sandbox settings with short limits suited to tests."""
    fields: dict[str, Any] = {"backend": backend, "timeout_s": 5.0, "cpu_s": 5}
    fields.update(overrides)
    return load_settings(sandbox=fields).sandbox


def executor(backend: str = "bubblewrap", **overrides: Any) -> SandboxExecutor:
    """An executor of ``backend`` with test limits."""
    return SandboxExecutor(sandbox_settings(backend, **overrides))


def output(result: Any) -> str:
    """Everything a result shows the planner, as one string, to search for leaked secrets."""
    data = result.to_dict() if hasattr(result, "to_dict") else result
    return repr(data)


def expect(harmed: bool, backend: str, what: str) -> None:
    """No harm in the sandbox; on the unsafe host the same attack must show harm (it can fail)."""
    if backend == "unsafe-host":
        assert harmed, f"the attack should succeed without isolation, or it tests nothing: {what}"
    else:
        assert not harmed, f"the sandbox let this happen: {what}"


def canary(folder: Path, secret: str) -> tuple[Path, Path]:
    """A secret file the sandbox must not read and a path it must not create."""
    secret_file = folder / "secret.txt"
    secret_file.write_text(secret)
    return secret_file, folder / "pwned"

"""The CodeExecutor seam, its sandbox implementation, and named sessions reaped when idle."""

from __future__ import annotations

import re
import sys
import threading
import time
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from autan.config import SandboxSettings, Settings
from autan.errors import UserInputError
from autan.tools.sandbox.launch import UNSAFE_WARNING, bwrap_spawn, host_spawn
from autan.tools.sandbox.limits import Limits, check_code
from autan.tools.sandbox.result import ExecResult
from autan.tools.sandbox.session import LimitsArg, Session

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@runtime_checkable
class CodeExecutor(Protocol):
    """Runs code in isolation: one-off ``run`` or a persistent ``session``."""

    backend: str

    def run(self, code: str | bytes, limits: LimitsArg = None) -> ExecResult:
        """Run code once in a fresh sandbox; failures are results, not exceptions."""
        ...

    def session(self, workspace: Path | None = None) -> Session:
        """A persistent session (started on first use)."""
        ...


class SandboxExecutor:
    """The bubblewrap backend, or the explicitly requested and loudly warned unsafe host."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.backend = settings.backend
        self.isolated = settings.backend == "bubblewrap"
        self._spawn = bwrap_spawn if self.isolated else host_spawn

    def run(self, code: str | bytes, limits: LimitsArg = None) -> ExecResult:
        """Run code once in a fresh sandbox (a cold start); bad input is an error result."""
        session = self.session()
        try:
            session.resolve(limits)
            check_code(code, self.settings.max_code_bytes)
        except UserInputError as exc:
            return ExecResult.from_error(exc)
        try:
            return session.run(code, limits)
        finally:
            session.close()

    def session(self, workspace: Path | None = None) -> Session:
        """A persistent session, started on first use."""
        return WarnedSession(self.settings, self._spawn, workspace, warn=not self.isolated)


class WarnedSession(Session):
    """A session that says, on every call, when it has no isolation."""

    def __init__(self, *args: Any, warn: bool = False) -> None:
        super().__init__(*args)
        self.warn = warn

    def _call(self, request: dict[str, Any], lim: Limits) -> ExecResult:
        if self.warn:
            print(UNSAFE_WARNING, file=sys.stderr)
        return super()._call(request, lim)


def make_executor(settings: Settings | SandboxSettings) -> SandboxExecutor:
    """The executor configured by ``[sandbox]``."""
    return SandboxExecutor(settings.sandbox if isinstance(settings, Settings) else settings)


class SessionPool:
    """Named sessions of one executor; sessions idle longer than ``idle_s`` are closed."""

    def __init__(self, executor: SandboxExecutor, workspace: Path | None = None) -> None:
        self.executor = executor
        self.workspace = workspace
        self.idle_s = executor.settings.idle_reap_s
        self.max_sessions = 8
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._reaper: threading.Thread | None = None

    def get(self, name: str) -> Session:
        """The session called ``name``, created on first use."""
        if not _NAME.match(name):
            raise UserInputError(f"bad session name {name!r}", hint="use letters, digits, _ . -")
        with self._lock:
            session = self._sessions.get(name)
            if session is None:
                if len(self._sessions) >= self.max_sessions:
                    raise UserInputError(
                        f"at most {self.max_sessions} sandbox sessions at once",
                        hint="reuse a session name or close one",
                    )
                session = self.executor.session(self.workspace)
                self._sessions[name] = session
                self._start_reaper()
            return session

    def names(self) -> list[str]:
        """Open session names."""
        return list(self._sessions)

    def close(self, name: str) -> bool:
        """Close one session; False when there was none."""
        with self._lock:
            session = self._sessions.pop(name, None)
        if session is not None:
            session.close()
        return session is not None

    def close_all(self) -> None:
        """Close every session."""
        for name in list(self._sessions):
            self.close(name)

    def reap(self, now: float | None = None) -> list[str]:
        """Close sessions idle for longer than ``idle_s``; their names."""
        now = time.monotonic() if now is None else now
        idle = [n for n, s in list(self._sessions.items()) if now - s.last_used > self.idle_s]
        for name in idle:
            self.close(name)
        return idle

    def _start_reaper(self) -> None:
        if self._reaper is None or not self._reaper.is_alive():
            self._reaper = threading.Thread(target=self._reap_loop, daemon=True, name="sbx-reap")
            self._reaper.start()

    def _reap_loop(self) -> None:
        while self._sessions:
            time.sleep(max(0.05, min(self.idle_s / 2, 30.0)))
            self.reap()

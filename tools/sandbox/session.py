"""A persistent sandbox: one worker process whose Python state and scratch files outlive calls."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

from autan import tracing
from autan.config import SandboxSettings
from autan.errors import AutanError, BackendError, ConfigError, UserInputError
from autan.tools.sandbox.launch import Spawn
from autan.tools.sandbox.limits import Limits, check_code
from autan.tools.sandbox.result import ExecResult
from autan.tools.sandbox.workspace import pack

LimitsArg = Limits | Mapping[str, Any] | None
SpawnFn = Callable[[SandboxSettings, dict[str, Any], bytes | None], Spawn]
# Seconds the host waits beyond a call's own timeout before it declares the worker lost.
GRACE_S = 2.0
START_TIMEOUT_S = 15.0
MAX_DIFF = 20_000
MAX_COMMAND = 100_000


@cache
def _spawner() -> ThreadPoolExecutor:
    """One long-lived thread that starts every worker.

    bubblewrap's ``--die-with-parent`` is a parent-*thread* death signal: a worker started from
    a short-lived thread (LangGraph runs nodes in per-run pools) would die, state and all, when
    that thread ends, e.g. between an approval interrupt and the resumed call.
    """
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="autan-sandbox-spawn")


def _popen(argv: list[str], options: dict[str, Any]) -> subprocess.Popen[bytes]:
    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            **options,
        )

    return _spawner().submit(start).result()


MAX_REPLY_BYTES = 256 << 20


class Session:
    """A notebook-like kernel inside one sandbox: ``run``, ``command``, ``reset``, ``close``."""

    def __init__(
        self, settings: SandboxSettings, spawn: SpawnFn, workspace: Path | None = None
    ) -> None:
        self.settings = settings
        self.limits = Limits.from_settings(settings)
        self.workspace = workspace
        self.last_used = time.monotonic()
        self._spawn_fn = spawn
        self._spawn: Spawn | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()

    @property
    def alive(self) -> bool:
        """Whether the worker process is running."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        """Start the worker (a cold start); a no-op when it is already running."""
        with self._lock:
            if self.alive:
                return
            tar = pack(self.workspace, self.settings.workspace_max_mb) if self.workspace else None
            cfg = {"limits": self.limits.rlimits()}
            where = self.settings.model_copy(update={"workspace": self.workspace})
            self._spawn = spawn = self._spawn_fn(where, cfg, tar)
            try:
                self._proc = _popen(spawn.argv, spawn.options)
            finally:
                spawn.release_fds()
            reply = self._exchange({"op": "ping"}, START_TIMEOUT_S)
            if reply is None:
                detail = self._stderr_tail()
                self.close()
                raise ConfigError(
                    f"the sandbox did not start: {detail}", hint="see docs/sandbox.md"
                )

    def resolve(self, limits: LimitsArg = None) -> Limits:
        """The session limits with ``limits`` applied; UserInputError when out of range."""
        if isinstance(limits, Limits):
            return limits.checked()
        return self.limits.with_overrides(**dict(limits or {}))

    def run(self, code: str | bytes, limits: LimitsArg = None) -> ExecResult:
        """Run Python source in the session; every failure is an ExecResult."""
        try:
            text = check_code(code, self.settings.max_code_bytes)
            lim = self.resolve(limits)
        except UserInputError as exc:
            return ExecResult.from_error(exc)
        return self._call({"op": "exec", "code": text}, lim)

    def command(self, command: str, limits: LimitsArg = None) -> ExecResult:
        """Run a shell command line (``/bin/sh -c``) in the session's scratch directory."""
        try:
            text = check_code(command, MAX_COMMAND)
            lim = self.resolve(limits)
        except UserInputError as exc:
            return ExecResult.from_error(exc)
        return self._call({"op": "command", "command": text}, lim)

    def _call(self, request: dict[str, Any], lim: Limits) -> ExecResult:
        attrs = {"autan.sandbox.op": request["op"], "autan.sandbox.backend": self.settings.backend}
        with tracing.span("sandbox.exec", attrs) as live:
            result = self._call_worker(request, lim)
            if tracing.enabled():
                live.set_attribute("autan.sandbox.duration_ms", result.duration_ms)
                tracing.record_result(live, result.to_dict())
            return result

    def _call_worker(self, request: dict[str, Any], lim: Limits) -> ExecResult:
        request |= {
            "timeout": lim.timeout_s,
            "cpu_s": lim.cpu_s,
            "memory": min(lim.memory_mb, self.limits.memory_mb) << 20,
            "max_output": lim.max_output_bytes,
            "max_diff": MAX_DIFF,
        }
        with self._lock:
            self.last_used = time.monotonic()
            try:
                self.start()
            except AutanError as exc:
                return ExecResult.from_error(exc)
            started = time.monotonic()
            reply = self._exchange(request, lim.timeout_s + GRACE_S)
            self.last_used = time.monotonic()
            if reply is None:
                return self._lost(started)
            return ExecResult.from_reply(reply)

    def _lost(self, started: float) -> ExecResult:
        """The worker died or stopped answering: kill what is left and say state is lost."""
        status = self._proc.poll() if self._proc else None
        how = "stopped answering" if status is None else f"died (exit status {status})"
        self.close()
        message = (
            f"the session worker {how}; its Python state and scratch files are lost and the "
            "next call starts a fresh session"
        )
        return ExecResult.failure("WorkerDied", message, (time.monotonic() - started) * 1000)

    def _exchange(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """Send one request and read one JSON reply; None when the worker is gone or silent."""
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            return None
        try:
            proc.stdin.write(json.dumps(request).encode() + b"\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        line = _read_line(proc.stdout.fileno(), time.monotonic() + timeout)
        if line is None:
            return None
        try:
            reply: dict[str, Any] = json.loads(line)
        except ValueError as exc:
            raise BackendError(f"the sandbox worker sent a malformed reply: {exc}") from None
        return reply

    def _stderr_tail(self) -> str:
        proc = self._proc
        if proc is None or proc.stderr is None:
            return "no worker"
        if proc.poll() is None:
            return "no answer in time"
        return proc.stderr.read(4000).decode(errors="replace").strip() or f"exit {proc.returncode}"

    def reset(self) -> None:
        """Forget all state: a fresh interpreter and scratch (and a fresh workspace copy)."""
        with self._lock:
            self.close()
            self.start()

    def close(self) -> None:
        """Stop the worker and everything it started; scratch files go with it."""
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is not None:
                _kill_tree(proc)
            if self._spawn is not None:
                self._spawn.remove_scratch()
                self._spawn = None

    def __enter__(self) -> Session:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_line(fd: int, deadline: float) -> bytes | None:
    """One newline-terminated line from ``fd`` before ``deadline``; None on EOF or timeout."""
    chunks: list[bytes] = []
    size = 0
    while True:
        wait = deadline - time.monotonic()
        if wait <= 0 or not select.select([fd], [], [], wait)[0]:
            return None
        data = os.read(fd, 1 << 20)
        size += len(data)
        if not data or size > MAX_REPLY_BYTES:
            return None  # gone, or a reply no honest worker sends
        chunks.append(data)
        if data.endswith(b"\n"):
            return b"".join(chunks)


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker's process group; bubblewrap's PID namespace takes the rest with it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()

"""A real autan server on 127.0.0.1 for tests: uvicorn in a thread, or ``autan serve`` itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from autan.server.app import create_app

LIGHT_POLICY = """\
version: 1
stages:
  input:
    - {rail: secrets, action: redact}
    - {rail: injection, action: block, threshold: 0.5, options: {model: builtin}}
  output:
    - {rail: secrets, action: redact}
"""


class LiveServer:
    """``create_app`` served by uvicorn on a free loopback port, in a thread of this process."""

    def __init__(self, settings: Any, model: Any = None, host: str = "127.0.0.1") -> None:
        self.app = create_app(settings, host=host, model=model)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = ""

    def __enter__(self) -> LiveServer:
        self.thread.start()
        for _ in range(600):
            if self.server.started or not self.thread.is_alive():
                break
            time.sleep(0.05)
        assert self.server.started, "the server did not start"
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def client(self, key: str | None = None) -> httpx.Client:
        """An HTTP client, with a bearer key if given."""
        headers = {"authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeProcess:
    """``autan serve`` as a child process on 127.0.0.1:<free port>, stopped by the test."""

    def __init__(self, env: dict[str, str], args: list[str], cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "autan", "serve", "--port", str(self.port), *args]
        self.proc = subprocess.Popen(
            cmd, env={**os.environ, **env}, cwd=cwd, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    def wait_ready(self, seconds: float = 120) -> None:
        """Poll /healthz until it answers; fail with the server's output if it never does."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"autan serve did not start: {self.output()}")

    def output(self) -> str:
        """What the server printed (after it stopped)."""
        return self.proc.stdout.read() if self.proc.stdout and self.proc.poll() is not None else ""

    def stop(self) -> None:
        """Terminate it (SIGTERM: uvicorn shuts down cleanly), then kill if it lingers."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

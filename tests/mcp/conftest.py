from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autan.config import McpServerSettings, Settings, ToolSettings

SERVER = str(Path(__file__).resolve().parents[1] / "support" / "mcp_server.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], limit_s: float = 30.0) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {limit_s}s")


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    """The file the test server's send_note tool appends to: its observable side effect."""
    return tmp_path / "sent.tsv"


def stdio_server(marker: Path, **overrides: object) -> McpServerSettings:
    values: dict[str, object] = {
        "command": [sys.executable, SERVER],
        "env": {"MCP_TEST_MARKER": str(marker)},
        "timeout_s": 20.0,
    }
    values.update(overrides)
    return McpServerSettings.model_validate(values)


def with_mcp(settings: Settings, **servers: McpServerSettings) -> Settings:
    return settings.model_copy(update={"tools": ToolSettings(mcp=servers)})


@pytest.fixture
def http_server(marker: Path) -> Iterator[str]:
    """The test MCP server over streamable HTTP on a free loopback port."""
    port = free_port()
    env = {"MCP_TEST_MARKER": str(marker), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [sys.executable, SERVER, "--http", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

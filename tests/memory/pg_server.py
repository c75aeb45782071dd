"""A throwaway Postgres on 127.0.0.1: initdb + pg_ctl in a temp dir, stopped with bounded waits.

Postgres refuses to run as root, so as root the server runs as the ``postgres`` system user
(created by Debian's package) through ``runuser``. ``start`` returns None with a reason when
the server cannot start, so tests can skip with it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One temporary cluster; ``url`` is set once it runs."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="autan-pg-"))
        self.port = _free_port()
        self.url = f"postgresql://autan@127.0.0.1:{self.port}/postgres"
        self.bin: Path | None = None
        self.prefix: list[str] = []

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        assert self.bin is not None
        cmd = [*self.prefix, str(self.bin / args[0]), *args[1:]]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def start(self) -> str | None:
        """Start the server; the reason it could not start, or None when it runs."""
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            return "no Postgres server binaries under /usr/lib/postgresql/*/bin"
        self.bin = Path(found[-1]).parent
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                return "running as root and there is no 'postgres' system user to run the server"
            if not shutil.which("runuser"):
                return "running as root without runuser to drop privileges"
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        data = str(self.dir / "data")
        init = self._run("initdb", "-D", data, "-U", "autan", "--auth=trust", "-E", "UTF8")
        if init.returncode != 0:
            return f"initdb failed: {init.stderr.strip()[-300:]}"
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.dir / "server.log")
        try:
            started = self._run(
                "pg_ctl", "-D", data, "-o", opts, "-l", log, "-w", "-t", "30", "start"
            )
        except subprocess.TimeoutExpired:
            return "pg_ctl start did not finish within 60 s"
        if started.returncode != 0:
            return f"pg_ctl start failed: {started.stderr.strip()[-300:]}"
        return None

    def stop(self) -> None:
        """Stop the server (fast, then immediate) and remove its directory."""
        data = str(self.dir / "data")
        if self.bin is not None and (self.dir / "data" / "postmaster.pid").exists():
            for mode in ("fast", "immediate"):
                try:
                    if (
                        self._run(
                            "pg_ctl", "-D", data, "-m", mode, "-w", "-t", "15", "stop", timeout=20
                        ).returncode
                        == 0
                    ):
                        break
                except subprocess.TimeoutExpired:
                    continue
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module", name="postgres_url")
def postgres_url_fixture() -> Iterator[str]:
    """A running throwaway server's URL for one test module; skips when it cannot start."""
    server = PgServer()
    reason = server.start()
    if reason is not None:
        server.stop()
        pytest.skip(f"Postgres could not start: {reason}")
    try:
        yield server.url
    finally:
        server.stop()

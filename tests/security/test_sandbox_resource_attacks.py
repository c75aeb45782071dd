"""Attacks on the host's resources and processes: run ONLY inside the sandbox, never on the host.

Each asserts the observable harm did not happen: the host can still fork and its processes live,
host disk use did not grow, the call ended within its limit, and the session survived.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from autan.tools.sandbox import Limits
from tests.sandbox.helpers import executor, output

pytestmark = pytest.mark.security

FORK_BOMB = (
    "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
)


def host_healthy() -> bool:
    """The host can still start a process."""
    return subprocess.run(["true"], check=False, timeout=10).returncode == 0


def test_fork_bomb_is_contained_and_the_session_survives() -> None:
    with executor(max_processes=16).session() as session:
        session.run("kept = 1")
        started = time.monotonic()
        bomb = session.run(FORK_BOMB, Limits(timeout_s=2.0, max_processes=16))
        elapsed = time.monotonic() - started
        after = session.run(
            "import os\nprint(kept, len([p for p in os.listdir('/proc') if p.isdigit()]))"
        )
    assert bomb.error and bomb.error["type"] == "Timeout" and elapsed < 3.0
    assert host_healthy()
    kept, processes = after.stdout.split()
    assert kept == "1" and int(processes) <= 4  # reaper, holder, this call (+ a straggler)


def test_memory_bomb_fails_as_memory_error_data() -> None:
    with executor(memory_mb=256).session() as session:
        bomb = session.run("hog = []\nwhile True:\n    hog.append(bytearray(32 << 20))")
        after = session.run("print('alive')")
    assert bomb.error and bomb.error["type"] == "MemoryError", output(bomb)
    assert after.stdout == "alive\n" and host_healthy()


def test_infinite_loop_is_killed_within_its_limit() -> None:
    started = time.monotonic()
    result = executor().run("while True:\n    pass", {"timeout_s": 1.0})
    assert result.error and result.error["type"] == "Timeout"
    assert time.monotonic() - started < 1.0 + 1.0 + 0.5  # + cold start


def test_huge_output_is_capped() -> None:
    result = executor().run("while True:\n    print('x' * 65536)", {"timeout_s": 1.0})
    assert result.truncated and result.error and result.error["type"] == "Timeout"
    assert len(result.stdout) < 1024 * 1024 + 100 and len(result.stderr) < 100


def test_disk_fill_hits_the_sandbox_quota_not_the_host_disk() -> None:
    free_before = shutil.disk_usage(tempfile.gettempdir()).free
    code = (
        "i = 0\ntry:\n    while True:\n"
        "        open(f'fill{i}', 'wb').write(b'0' * (1 << 20))\n        i += 1\n"
        "except OSError as exc:\n    print(i, exc.strerror)\n"
        "try:\n    open('/tmp/big', 'wb').write(b'0' * (8 << 20))\n"
        "except OSError as exc:\n    print(exc.strerror)\n"
        "for path in ['/dev/fill'] + [f'/dev/shm/{c}' for c in 'abcde']:\n"
        "    try:\n        open(path, 'wb').write(b'0' * (4 << 20))\n"
        "    except OSError as exc:\n        print(path, exc.strerror)\n"
    )
    result = executor(scratch_mb=16, max_file_mb=4).run(code)
    filled, _ = result.stdout.split(" ", 1)
    assert "No space left on device" in result.stdout and int(filled) <= 16
    assert "File too large" in result.stdout
    assert "/dev/fill Read-only file system" in result.stdout
    assert "/dev/shm/e No space left on device" in result.stdout  # 16 MB tmpfs
    assert free_before - shutil.disk_usage(tempfile.gettempdir()).free < 64 << 20


def test_kill_attacks_do_not_reach_host_processes() -> None:
    victim = subprocess.Popen(["sleep", "30"])
    try:
        code = (
            f"import os, signal\nfor pid in ({victim.pid}, {os.getpid()}, 1, os.getppid(), -1):\n"
            "    try:\n        os.kill(pid, signal.SIGKILL)\n"
            "    except OSError as exc:\n        print(pid, exc)\n"
        )
        with executor().session() as session:
            result = session.run(code)
        assert victim.poll() is None and host_healthy()
        assert result.error and result.error["type"] == "WorkerDied"
    finally:
        victim.kill()
        victim.wait()


def test_no_processes_outlive_a_closed_session() -> None:
    session = executor().session()
    session.run("import subprocess\nsubprocess.Popen(['sleep', '60'], start_new_session=True)")
    pid = session._proc.pid if session._proc else 0
    session.close()
    assert pid and not os.path.exists(f"/proc/{pid}")


def test_sandbox_dies_with_its_parent() -> None:
    script = (
        "import sys, time\nfrom tests.sandbox.helpers import executor\n"
        "s = executor().session()\ns.start()\nprint(s._proc.pid, flush=True)\ntime.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        sandbox_pid = int(parent.stdout.readline())
        assert os.path.exists(f"/proc/{sandbox_pid}")
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{sandbox_pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{sandbox_pid}")

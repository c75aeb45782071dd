"""OS-level attacks whose harm is safe to observe: run against the sandbox and the unsafe host.

Each test asserts the observable harm (a host file read or written, a host secret or process seen,
a loopback connection made) did not happen in the sandbox, and did happen on the unsafe host.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from autan.tools.sandbox import Session
from tests.sandbox.helpers import BACKENDS, canary, executor, expect, output

pytestmark = pytest.mark.security
ENV_SECRET = "canary-env-" + secrets.token_hex(8)


@pytest.fixture(scope="module", params=BACKENDS)
def box(request: pytest.FixtureRequest) -> Iterator[tuple[str, Session]]:
    """A session per backend, started while the host environment holds a secret."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SANDBOX_TEST_API_KEY", ENV_SECRET)
        session = executor(request.param).session()
        session.start()
    yield request.param, session
    session.close()


def test_etc_shadow_is_not_readable(box: tuple[str, Session]) -> None:
    backend, session = box
    if backend == "unsafe-host" and not os.access("/etc/shadow", os.R_OK):
        pytest.skip("this host user cannot read /etc/shadow either")
    result = session.run("print(open('/etc/shadow').read())")
    expect("root:" in result.stdout, backend, output(result))


def test_host_home_is_not_visible(box: tuple[str, Session]) -> None:
    backend, session = box
    home = Path.home()
    names = [n for n in os.listdir(home) if len(n) >= 3]
    if not names:
        pytest.skip("the host home is empty")
    result = session.run(f"import os\nprint(os.listdir({str(home)!r}))")
    expect(any(repr(n) in result.stdout for n in names), backend, output(result))


def test_host_environment_does_not_leak(box: tuple[str, Session]) -> None:
    backend, session = box
    code = (
        "import os\nprint(dict(os.environ))\n"
        "for pid in [p for p in os.listdir('/proc') if p.isdigit()] + ['self']:\n"
        "    try:\n        print(open(f'/proc/{pid}/environ', 'rb').read())\n"
        "    except OSError as exc:\n        print(exc)\n"
    )
    result = session.run(code, {"max_output_bytes": 1 << 20})
    expect(ENV_SECRET in output(result), backend, output(result)[-3000:])


def test_host_processes_are_not_visible(box: tuple[str, Session]) -> None:
    backend, session = box
    mine = Path("/proc/self/cmdline").read_bytes()
    code = (
        "import os\nfor pid in os.listdir('/proc'):\n    if pid.isdigit():\n"
        "        try:\n            print(open(f'/proc/{pid}/cmdline', 'rb').read())\n"
        "        except OSError:\n            pass\n"
    )
    result = session.run(code, {"max_output_bytes": 1 << 20})
    expect(repr(mine) in result.stdout, backend, "this test process's command line was visible")


def test_dotdot_and_symlinks_do_not_reach_host_files(
    box: tuple[str, Session], tmp_path: Path
) -> None:
    backend, session = box
    secret = "canary-" + secrets.token_hex(8)
    secret_file, marker = canary(tmp_path, secret)
    up = "../" * 30
    code = (
        "import os\n"
        f"try:\n    open({up + str(marker).lstrip('/')!r}, 'w').write('x')\n"
        "except OSError as exc:\n    print(exc)\n"
        f"os.symlink({str(secret_file)!r}, 'in')\nos.symlink({str(marker)!r}, 'out')\n"
        "try:\n    print(open('in').read())\n    open('out', 'w').write('x')\n"
        "except OSError as exc:\n    print(exc)\n"
    )
    result = session.run(code)
    expect(marker.exists() or secret in result.stdout, backend, output(result))


def test_no_connection_reaches_a_loopback_listener(box: tuple[str, Session]) -> None:
    backend, session = box
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        code = (
            "import socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'leak')\n"
            "except OSError as exc:\n    print(type(exc).__name__, exc)\n"
        )
        result = session.run(code)
        server.settimeout(0.5)  # the kernel queued any connection the call made
        try:
            conn, _ = server.accept()
            conn.close()
            connected = True
        except TimeoutError:
            connected = False
    expect(connected, backend, output(result))

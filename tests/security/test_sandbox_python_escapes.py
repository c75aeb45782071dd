"""The Python-level escape families smolagents tests its executor against, as real attacks.

Inside autan's sandbox these tricks all "work" (there is no Python-level jail to escape); the
boundary is the operating system, so each test asserts the harm did not happen: the host secret
file was not read and the host marker file was not created. The same attacks run against the
unsafe host backend, where the harm must show, proving each test can fail.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from autan.tools.sandbox import Session
from tests.sandbox.helpers import BACKENDS, canary, executor, expect, output

pytestmark = pytest.mark.security

# Each attack reads SECRET and creates MARKER by its own route to the OS.
ATTACKS = {
    "import os": "import os\nfd = os.open(SECRET, os.O_RDONLY)\nprint(os.read(fd, 100))\n"
    "os.close(os.open(MARKER, os.O_CREAT | os.O_WRONLY))",
    "subprocess": "import subprocess\nprint(subprocess.run(['cat', SECRET], capture_output=True))"
    "\nsubprocess.run(['touch', MARKER])",
    "builtins dict": "b = __builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)\n"
    "print(b['open'](SECRET).read())\nb['open'](MARKER, 'w').close()",
    "__import__ string tricks": "m = __import__('o' + 's')\nprint(m.popen('cat ' + SECRET).read())"
    "\nm.system('touch ' + MARKER)",
    "__subclasses__ walk to Popen": "__import__('subprocess')\n"
    "P = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0]\n"
    "P(['sh', '-c', f'cat {SECRET}; touch {MARKER}']).wait()",
    "__subclasses__ walk to os.system": "W = [c for c in object.__subclasses__() "
    "if c.__name__ == '_wrap_close'][0]\nsystem = W.__init__.__globals__['system']\n"
    "system(f'cat {SECRET}; touch {MARKER}')",
    "sys.modules": "import sys\nos = sys.modules['os']\nos.system(f'cat {SECRET}; touch {MARKER}')",
    "importlib": "import importlib\nposix = importlib.import_module('posix')\n"
    "print(posix.read(posix.open(SECRET, 0), 100))\nposix.close(posix.open(MARKER, 64 | 1))",
    "sys._getframe walk": "import sys\nf = sys._getframe(0)\nwhile f.f_back: f = f.f_back\n"
    "os = f.f_globals['os']\nos.system(f'cat {SECRET}; touch {MARKER}')",
    "generator frame": "g = (x for x in [1])\nimp = g.gi_frame.f_builtins['__import__']\n"
    "imp('os').system(f'cat {SECRET}; touch {MARKER}')",
    "traceback frame": "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n"
    "    f = e.__traceback__.tb_frame.f_back\nos = f.f_globals['os']\n"
    "os.system(f'cat {SECRET}; touch {MARKER}')",
    "dunder access": "bi = print.__self__\nprint(bi.__dict__['open'](SECRET).read())\n"
    "bi.__dict__['open'](MARKER, 'x').close()",
    "getattr indirection": "o = getattr(__builtins__, '__im' + 'port__', None) or "
    "__builtins__['__im' + 'port__']\ngetattr(o('o' + 's'), 'sys' + 'tem')"
    "(f'cat {SECRET}; touch {MARKER}')",
}


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """The host secret and the path of the marker an escape would create."""
    secret = "canary-" + secrets.token_hex(8)
    secret_file, marker = canary(tmp_path_factory.mktemp("host"), secret)
    return secret, secret_file, marker


@pytest.fixture(scope="module", params=BACKENDS)
def box(request: pytest.FixtureRequest) -> Iterator[tuple[str, Session]]:
    """One session per backend shared by every attack (none of them harms the session)."""
    with executor(request.param).session() as session:
        yield request.param, session


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=ATTACKS.keys())
def test_escape_attempt_reads_no_host_secret_and_writes_no_host_file(
    box: tuple[str, Session], target: tuple[str, Path, Path], attack: str
) -> None:
    backend, session = box
    secret, secret_file, marker = target
    marker.unlink(missing_ok=True)
    code = f"SECRET, MARKER = {str(secret_file)!r}, {str(marker)!r}\n" + attack
    result = session.run(code)
    harmed = secret in output(result) or marker.exists()
    marker.unlink(missing_ok=True)
    expect(harmed, backend, f"{result.to_dict()}")

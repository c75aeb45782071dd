"""The seccomp denylist: namespace creation, ptrace and kernel keyrings are refused inside.

Run with the filter on and off: without it the same calls succeed inside bubblewrap, so these
tests can fail, and the filter is what stops them.
"""

from __future__ import annotations

import platform

import pytest

from tests.sandbox.helpers import executor, output

pytestmark = [
    pytest.mark.security,
    pytest.mark.skipif(platform.machine() != "x86_64", reason="syscall numbers are x86_64's"),
]

PROBE = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def attempt(name, rc):
    print(name, 'allowed' if rc >= 0 else 'denied', ctypes.get_errno())
attempt('unshare-user', libc.unshare(0x10000000))
attempt('keyctl', libc.syscall(248, b'user', b'k', b'v', 1, -2))  # add_key on x86_64
attempt('ptrace-traceme', libc.ptrace(0, 0, 0, 0))
print('Seccomp:', [l for l in open('/proc/self/status') if l.startswith('Seccomp:')][0].split()[1])
"""


@pytest.mark.parametrize("enabled", [True, False], ids=["filter", "no-filter"])
def test_denied_calls_fail_only_with_the_filter(enabled: bool) -> None:
    result = executor(seccomp=enabled).run(PROBE)
    assert result.ok, output(result)
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    denied = [
        name for name in ("unshare-user", "keyctl", "ptrace-traceme") if "denied" in lines[name]
    ]
    if enabled:
        assert denied == ["unshare-user", "keyctl", "ptrace-traceme"], result.stdout
        assert lines["Seccomp:"].strip() == "2"
    else:
        assert denied == [] and lines["Seccomp:"].strip() == "0", result.stdout

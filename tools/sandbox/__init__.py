"""Code execution isolated by the operating system: bubblewrap namespaces, rlimits and seccomp.

``make_executor(settings).run(code)`` for one-off runs; ``.session()`` for a persistent kernel.
"""

from autan.tools.sandbox.executor import CodeExecutor, SandboxExecutor, SessionPool, make_executor
from autan.tools.sandbox.limits import Limits
from autan.tools.sandbox.result import ExecResult
from autan.tools.sandbox.session import Session

__all__ = [
    "CodeExecutor",
    "ExecResult",
    "Limits",
    "SandboxExecutor",
    "Session",
    "SessionPool",
    "make_executor",
]

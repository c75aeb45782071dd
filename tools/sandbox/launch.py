"""How a sandbox process is started: bubblewrap (isolated) or the host itself (unsafe-host)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autan.config import SandboxSettings
from autan.errors import ConfigError
from autan.tools.sandbox import seccomp

WORKER = Path(__file__).with_name("_worker.py")
ROOT = "/sandbox"
ORIGIN = "/run/autan/workspace.tar"
FIX = (
    "install bubblewrap (apt-get install bubblewrap; scripts/system-deps.sh does it) and allow "
    "user namespaces (sysctl user.max_user_namespaces=15000, kernel.unprivileged_userns_clone=1),"
    " or set sandbox.backend = 'unsafe-host' to run code WITHOUT isolation"
)
UNSAFE_WARNING = (
    "autan: WARNING: sandbox.backend = 'unsafe-host': planner-written code runs on this host "
    "with your user's rights and no isolation"
)


@dataclass
class Spawn:
    """One ready-to-start sandbox process: argv, Popen options and fds to close after it."""

    argv: list[str]
    options: dict[str, Any] = field(default_factory=dict)
    fds: list[int] = field(default_factory=list)
    scratch: str | None = None

    def release_fds(self) -> None:
        """Close the fds handed to the child, once it has them."""
        for fd in self.fds:
            os.close(fd)
        self.fds.clear()

    def remove_scratch(self) -> None:
        """Delete the host scratch directory (unsafe-host only)."""
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


def data_fd(data: bytes, name: str) -> int:
    """A readable fd holding ``data`` (memfd), for bwrap's ``--*-data`` and ``--seccomp``."""
    fd = os.memfd_create(name, 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _reachable(path: Path, uid: int | None) -> bool:
    """Whether ``uid`` (None: this process) can read ``path`` and every folder above it."""
    if uid is None:
        return os.access(path, os.R_OK | os.X_OK)
    for part in [path, *path.parents]:
        mode = part.stat().st_mode
        need = stat.S_IXOTH | (stat.S_IROTH if part == path else 0)
        if mode & need != need:
            return False
    return True


def sandbox_uid(settings: SandboxSettings) -> int | None:
    """Root drops to ``run_as_uid``: UID 0 is exempt from RLIMIT_NPROC, so no fork-bomb limit."""
    return settings.run_as_uid if os.geteuid() == 0 else None


@functools.cache
def _python_for(configured: Path | None, uid: int | None) -> Path:
    base = Path(getattr(sys, "_base_executable", sys.executable))
    candidates = [configured] if configured else [base, Path("/usr/bin/python3")]
    for candidate in candidates:
        if candidate.exists() and _reachable(candidate.resolve(), uid):
            return candidate.resolve()
    raise ConfigError(
        f"no Python interpreter the sandbox user can run (tried {', '.join(map(str, candidates))})",
        hint="set sandbox.python to a world-readable python3, e.g. /usr/bin/python3",
    )


def interpreter(settings: SandboxSettings) -> Path:
    """The sandbox's own Python: ``sandbox.python``, the venv's base interpreter or /usr's."""
    return _python_for(settings.python, sandbox_uid(settings))


def _system_binds() -> list[str]:
    """Read-only /usr and the merged-/usr links (or binds) for /bin, /lib, /lib64, /sbin."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib64", "/lib32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for etc in ("/etc/ld.so.cache", "/etc/localtime"):
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    return args


def _python_binds(python: Path, extra: list[Path]) -> list[str]:
    prefix = python.parent.parent
    args = [] if prefix == Path("/usr") else ["--ro-bind", str(prefix), str(prefix)]
    for path in extra:
        args += ["--ro-bind", str(path), str(path)]
    return args


def workspace_venv(workspace: Path | None, uid: int | None) -> Path | None:
    """The workspace's virtualenv (``.venv`` or ``venv``) if the sandbox user can run it.

    It is bound read-only at its own path (its scripts' ``#!`` lines name that path) with its
    ``bin`` first on PATH, so ``pytest -q`` in a Python project runs with the project's packages.
    """
    for name in (".venv", "venv") if workspace else ():
        venv = (workspace / name).resolve()  # type: ignore[operator]
        python = venv / "bin" / "python"
        if (venv / "pyvenv.cfg").is_file() and python.exists():
            if _reachable(venv / "bin", uid) and _reachable(python.resolve(), uid):
                return venv
    return None


def _venv_binds(venv: Path | None) -> list[str]:
    if venv is None:
        return []
    base = (venv / "bin" / "python").resolve().parent.parent
    args = ["--ro-bind", str(venv), str(venv)]
    return args if base == Path("/usr") else [*args, "--ro-bind", str(base), str(base)]


def bwrap_spawn(settings: SandboxSettings, cfg: dict[str, Any], tar: bytes | None) -> Spawn:
    """The bubblewrap command line for one sandbox whose worker gets ``cfg``."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise ConfigError("bubblewrap (bwrap) is not installed; code cannot be isolated", hint=FIX)
    python, uid = interpreter(settings), sandbox_uid(settings)
    probe_bwrap(bwrap, uid)
    paths = [str(p) for p in settings.python_paths]
    argv = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--as-pid-1"]
    argv += ["--cap-drop", "ALL", "--hostname", "sandbox", "--clearenv"]
    # The private /tmp first: binds of an interpreter or packages that live under the host's
    # /tmp (a virtualenv there, say) then land on top of it instead of being hidden by it.
    argv += ["--proc", "/proc", "--dev", "/dev", "--size", str(16 << 20), "--tmpfs", "/dev/shm"]
    argv += ["--remount-ro", "/dev", "--size", str(64 << 20), "--tmpfs", "/tmp"]
    venv = workspace_venv(settings.workspace, uid) if tar is not None else None
    argv += _system_binds() + _python_binds(python, list(settings.python_paths))
    argv += _venv_binds(venv)
    argv += ["--size", str(settings.scratch_mb << 20), "--tmpfs", ROOT, "--chdir", ROOT]
    env = {"HOME": ROOT, "TMPDIR": "/tmp", "LANG": "C.UTF-8", "PYTHONPATH": ":".join(paths)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PATH"] = f"{python.parent}:/usr/local/bin:/usr/bin:/bin"
    if venv is not None:
        env["PATH"] = f"{venv}/bin:{env['PATH']}"
        env["VIRTUAL_ENV"] = str(venv)
    for key, value in env.items():
        argv += ["--setenv", key, value]
    spawn = Spawn(argv)
    if tar is not None:
        spawn.fds.append(data_fd(tar, "autan-workspace"))
        argv += ["--ro-bind-data", str(spawn.fds[-1]), ORIGIN]
    if settings.seccomp:
        spawn.fds.append(seccomp.bpf_fd())
        argv += ["--seccomp", str(spawn.fds[-1])]
    cfg = {**cfg, "root": ROOT, "origin": ORIGIN, "paths": paths}
    argv += ["--remount-ro", "/", str(python), "-I", "-S", "-B", "-c", WORKER.read_text()]
    argv.append(json.dumps(cfg))
    spawn.options = {"pass_fds": tuple(spawn.fds), **_user(uid)}
    return spawn


def _user(uid: int | None) -> dict[str, Any]:
    return {} if uid is None else {"user": uid, "group": uid, "extra_groups": []}


def host_spawn(settings: SandboxSettings, cfg: dict[str, Any], tar: bytes | None) -> Spawn:
    """The unsafe-host command line: the same worker, on the host, no isolation at all."""
    print(UNSAFE_WARNING, file=sys.stderr)
    base = tempfile.mkdtemp(prefix="autan-unsafe-")
    root, origin = Path(base, "scratch"), Path(base, "workspace.tar")
    root.mkdir()
    if tar is not None:
        origin.write_bytes(tar)
    cfg = {**cfg, "root": str(root), "origin": str(origin), "paths": []}
    cfg["limits"] = {k: v for k, v in cfg["limits"].items() if k != "RLIMIT_NPROC"}
    argv = [sys.executable, "-I", "-S", "-B", "-c", WORKER.read_text(), json.dumps(cfg)]
    return Spawn(argv, {"cwd": str(root)}, scratch=base)


@functools.cache
def probe_bwrap(bwrap: str, uid: int | None) -> None:
    """Fail once, clearly, when this machine cannot create the sandbox's namespaces."""
    argv = [bwrap, "--unshare-all", "--die-with-parent", *_system_binds(), "/bin/true"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=10, check=False, **_user(uid))
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"bubblewrap cannot start: {exc}", hint=FIX) from None
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip() or f"exit {done.returncode}"
        raise ConfigError(f"bubblewrap cannot create a sandbox here: {reason}", hint=FIX)

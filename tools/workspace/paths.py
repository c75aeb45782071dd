"""Workspace confinement: every path a workspace tool reads or writes is checked here.

A refusal is a ``SecurityViolation`` whose ``rule`` names what was refused: ``absolute-path``,
``parent-path``, ``outside-workspace`` (a symlink pointing out), ``hard-link``, ``special-file``
(devices, FIFOs, sockets), ``git-dir`` (anything under ``.git/``: its hooks and config can run
programs, and ``git_status``/``git_diff`` are the read-only view of it) or ``size-limit``.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from autan.config import FileToolSettings, Settings
from autan.errors import NotFoundError, SecurityViolation, UserInputError

ABSENT = "absent"  # the content hash of a file that does not exist
TEMP_SUFFIX = ".autan-tmp"  # an edit being written; one left by a crash is never listed
GIT_HINT = "git state is off limits to file tools; use git_status or git_diff"


def refuse(rule: str, message: str, hint: str = "use a path inside the workspace") -> None:
    """Raise the SecurityViolation for ``rule``."""
    raise SecurityViolation(f"{message} (rule: {rule})", rule=rule, hint=hint)


def digest(data: bytes) -> str:
    """The content hash edits are pinned to."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Workspace:
    """The folder the workspace tools may touch, and their limits."""

    root: Path
    limits: FileToolSettings

    @classmethod
    def of(cls, settings: Settings) -> Workspace:
        """The workspace named by ``settings``."""
        return cls(Path(os.path.realpath(settings.workspace)), settings.files)

    def rel(self, real: Path) -> str:
        """A real path inside the workspace as a relative POSIX path."""
        return real.relative_to(self.root).as_posix() or "."

    def locate(self, path: str, *, write: bool = False) -> Path:
        """The real path of ``path`` (relative to the workspace); escapes are refused."""
        text = path.strip()
        if not text:
            raise UserInputError("the path is empty", hint="give a path relative to the workspace")
        if "\x00" in text:
            refuse("special-file", "a path may not contain a NUL byte")
        pure = PurePosixPath(text)
        if pure.is_absolute() or text.startswith("~"):
            refuse("absolute-path", f"path {path!r} is absolute")
        if ".." in pure.parts:
            refuse("parent-path", f"path {path!r} climbs out with '..'")
        real = Path(os.path.realpath(self.root / pure))
        if real != self.root and self.root not in real.parents:
            refuse("outside-workspace", f"path {path!r} leads outside the workspace")
        if ".git" in real.relative_to(self.root).parts:
            refuse("git-dir", f"path {path!r} is inside .git/", hint=GIT_HINT)
        return real

    def _check_open(self, fd: int, path: str) -> os.stat_result:
        """Re-check what was opened: a regular file, one link, still inside the workspace."""
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise UserInputError(
                f"{path!r} is a directory, not a file", hint="list it with list_files"
            )
        if not stat.S_ISREG(st.st_mode):
            refuse("special-file", f"{path!r} is not a regular file (device, FIFO or socket)")
        if st.st_nlink > 1:
            links = st.st_nlink
            refuse("hard-link", f"{path!r} has {links} hard links; one may be outside")
        opened = (
            Path(os.readlink(f"/proc/self/fd/{fd}")) if os.path.isdir("/proc/self/fd") else None
        )
        if opened is not None and opened != self.root and self.root not in opened.parents:
            refuse("outside-workspace", f"{path!r} was swapped for a path outside the workspace")
        if st.st_size > self.limits.max_file_bytes:
            cap = self.limits.max_file_bytes
            refuse("size-limit", f"{path!r} is {st.st_size} bytes, over the {cap}-byte limit")
        return st

    def read_bytes(self, path: str, *, write: bool = False) -> tuple[Path, bytes | None, int]:
        """(real path, content or None when absent, mode) of a workspace file, after every check."""
        real = self.locate(path, write=write)
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(real, flags)
        except FileNotFoundError:
            if write:
                return real, None, 0o644
            raise NotFoundError(f"no such file in the workspace: {path}") from None
        except OSError as exc:
            raise UserInputError(f"cannot open {path!r}: {exc.strerror}") from None
        try:
            st = self._check_open(fd, path)
            with os.fdopen(os.dup(fd), "rb") as fh:
                data = fh.read(self.limits.max_file_bytes + 1)
        finally:
            os.close(fd)
        return real, data, stat.S_IMODE(st.st_mode)

    def current_hash(self, path: str) -> str:
        """The content hash of ``path`` now (``absent`` when it does not exist)."""
        _, data, _ = self.read_bytes(path, write=True)
        return ABSENT if data is None else digest(data)


def looks_binary(data: bytes) -> bool:
    """A NUL byte in the first 8 KiB, or bytes that are not UTF-8, mean binary."""
    if b"\x00" in data[:8192]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(data) - 3  # a multi-byte character cut by a size cap is still text
    return False

"""Workspace mode: the host folder the user names is copied in as a tar; changes come back as diffs.

Copy-in rather than a read-write bind: nothing of the host is writable from the sandbox (not even
the workspace), the sandbox user needs no rights on the user's files, and every change reaches the
host only as a reviewable diff that the user (or an approval step) applies.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

from autan.errors import UserInputError

SKIPPED = {".git", ".hg", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache",
           ".pytest_cache", ".ruff_cache", ".tox"}  # fmt: skip


def _files(root: Path) -> list[Path]:
    """Regular files and symlinks under ``root``, skipping VCS, caches and virtualenvs."""
    found: list[Path] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
        found += [Path(folder, n) for n in sorted(names)]
    return found


def pack(workspace: Path, max_mb: int) -> bytes:
    """The workspace as an uncompressed tar, refusing one larger than ``max_mb``."""
    root = workspace.resolve()
    if not root.is_dir():
        raise UserInputError(f"the sandbox workspace {workspace} is not a directory")
    budget, buf = max_mb << 20, io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in _files(root):
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(root)))
            if not (info.isfile() or info.issym()):
                continue
            budget -= info.size
            if budget < 0:
                raise UserInputError(
                    f"the workspace {root} holds more than {max_mb} MB of files",
                    hint="raise sandbox.workspace_max_mb or name a smaller folder",
                )
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode |= 0o600
            if info.isfile():
                with path.open("rb") as fh:
                    tar.addfile(info, fh)
            else:
                tar.addfile(info)
    return buf.getvalue()

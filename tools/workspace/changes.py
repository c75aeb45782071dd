"""Changes to workspace files: planned against a content hash, written atomically per file.

A ``Change`` records the hash of the file it was planned against. Applying re-reads every file
first: if any differs from its planned hash (someone edited it since the diff was shown), nothing
is written and the conflicts are reported. Each file is then replaced atomically (temp file in the
same folder, fsync, ``os.replace``, fsync of the folder), so a crash at any moment leaves every
file either old or new, never half-written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autan.errors import UserInputError
from autan.tools.workspace.patch import make_diff
from autan.tools.workspace.paths import ABSENT, TEMP_SUFFIX, Workspace, digest, refuse


class Conflict(UserInputError):
    """Files changed since the diff was made; nothing was written."""

    def __init__(self, conflicts: list[dict[str, str]]) -> None:
        names = ", ".join(c["path"] for c in conflicts)
        super().__init__(
            f"conflict: {names} changed since the diff was made; nothing was written",
            hint="read the file again and propose the edit anew",
        )
        self.conflicts = conflicts


@dataclass(frozen=True)
class Change:
    """New content (None: delete) for one workspace path, planned against ``base``."""

    path: str
    base: str
    old: bytes | None
    new: bytes | None

    def diff(self) -> str:
        """The change as a unified diff."""
        old = None if self.old is None else self.old.decode("utf-8", errors="replace")
        new = None if self.new is None else self.new.decode("utf-8", errors="replace")
        return make_diff(self.path, old, new)


def plan(ws: Workspace, path: str, new: bytes | None) -> Change:
    """A change of ``path`` to ``new`` against the file as it is now (writes nothing)."""
    _, old, _ = ws.read_bytes(path, write=True)
    if old is None and new is None:
        raise UserInputError(f"cannot delete {path!r}: no such file in the workspace")
    rel = ws.rel(ws.locate(path, write=True))
    return Change(rel, ABSENT if old is None else digest(old), old, new)


def summary(ws: Workspace, changes: Sequence[Change]) -> dict[str, Any]:
    """What a set of changes would do: the diff (capped) and the hashes it is pinned to."""
    diff = "".join(c.diff() for c in changes)
    cap = ws.limits.max_diff_bytes
    if len(diff.encode("utf-8")) > cap:
        refuse("size-limit", f"the diff is over the {cap}-byte limit", hint="edit less at once")
    return {
        "diff": diff,
        "base": {c.path: c.base for c in changes},
        "files": [c.path for c in changes],
    }


def check_base(changes: Sequence[Change], base: Mapping[str, str] | None) -> None:
    """Refuse changes planned against other content than ``base`` (the reviewed version)."""
    if not base:
        return
    conflicts = [
        {"path": c.path, "expected": base[c.path], "found": c.base}
        for c in changes
        if c.path in base and base[c.path] != c.base
    ]
    if conflicts:
        raise Conflict(conflicts)


def apply(ws: Workspace, changes: Sequence[Change]) -> list[str]:
    """Write every change atomically, after checking none of the files moved on."""
    conflicts = []
    for c in changes:
        now = ws.current_hash(c.path)
        if now != c.base:
            conflicts.append({"path": c.path, "expected": c.base, "found": now})
    if conflicts:
        raise Conflict(conflicts)
    for c in changes:
        target = ws.locate(c.path, write=True)
        if c.new is None:
            target.unlink()
            _sync_dir(target.parent)
        else:
            write_atomic(target, c.new)
    return [c.path for c in changes]


def write_atomic(target: Path, data: bytes) -> None:
    """Replace ``target`` with ``data`` so a crash leaves the old or the new file, nothing else."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_dir(target.parent)


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""Which files an ingest covers, and the fingerprint that decides whether one changed."""

from __future__ import annotations

import errno
import fnmatch
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from autan.errors import UserInputError
from autan.memory.ingest.loaders import LOADERS

# Bump when loaders or chunking change what a file turns into: every file is then re-indexed.
PIPELINE_VERSION = "1"

# Tool and build folders, and Sphinx build artefacts that duplicate the HTML pages.
DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "_sources",
    "_static",
    "_images",
    "_downloads",
    "genindex*.html",
    "py-modindex.html",
    "search.html",
)


@dataclass(frozen=True)
class Candidate:
    """A file an ingest will look at; ``source`` is its POSIX path; ``skip`` why it is not read."""

    path: Path
    source: str
    root: str
    skip: str | None = None


_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device",
          stat.S_IFBLK: "a device"}  # fmt: skip


def _stat_problem(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symlink loop"
    if exc.errno == errno.ENOENT:
        return "missing (or a broken symlink)"
    return f"unreadable ({exc.strerror or exc})"


def resolve_root(raw: Path | str) -> Path:
    """One path to ingest, resolved; ``UserInputError`` (exit 2) saying what is wrong with it."""
    text = str(raw)
    if isinstance(raw, str) and not text.strip():
        raise UserInputError("an empty path was given", hint="pass a file or folder, e.g. '.'")
    path = Path(text).expanduser()
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ENOENT and not os.path.lexists(path):
            raise UserInputError(
                f"no such file or directory: {text}", hint="check the path"
            ) from None
        raise UserInputError(f"{text} is {_stat_problem(exc)}", hint="check the path") from None
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise UserInputError(f"{text} is {kind}, not a file or folder", hint="give a path to one")
    if not os.access(path, os.R_OK | (os.X_OK if stat.S_ISDIR(mode) else 0)):
        raise UserInputError(f"{text} is not readable", hint="check its permissions")
    if stat.S_ISREG(mode) and path.suffix.lower() not in LOADERS:
        raise UserInputError(
            f"{text}: unsupported file type {path.suffix or '(none)'!r}",
            hint=f"autan reads {', '.join(sorted(LOADERS))}",
        )
    return path.resolve()


def resolve_roots(paths: Sequence[Path | str]) -> list[Path]:
    """Existing, resolved paths, or ``UserInputError`` naming the first bad one."""
    if not paths:
        raise UserInputError("give at least one file or directory to ingest")
    return [resolve_root(p) for p in paths]


def _excluded(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(name, pat) for pat in patterns)


def walk(roots: Sequence[Path], excludes: Sequence[str] = DEFAULT_EXCLUDES) -> Iterator[Candidate]:
    """Every supported file under ``roots`` in a stable order, skipping excluded names.

    Entries that are not regular files (FIFOs, sockets, devices), symlink loops, broken links
    and links to files outside their root come with ``skip`` set and are never read.
    """
    seen: set[str] = set()
    for root in roots:
        if root.is_file():
            files: Iterable[Path] = [root]
        else:
            files = _walk_dir(root, excludes)
        for path in files:
            source = path.as_posix()
            if source not in seen and path.suffix.lower() in LOADERS:
                seen.add(source)
                yield Candidate(path, source, root.as_posix(), _problem(path, root))


def _problem(path: Path, root: Path) -> str | None:
    """Why a walked file must not be read, or None."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return _stat_problem(exc)
    if not stat.S_ISREG(mode):
        return f"{_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}, not a file"
    if path.is_symlink() and not path.resolve().is_relative_to(root):
        return f"a symlink to {path.resolve()}, outside {root}"
    return None


def _walk_dir(root: Path, excludes: Sequence[str]) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not _excluded(d, excludes))
        for name in sorted(filenames):
            if not _excluded(name, excludes):
                yield Path(dirpath) / name


def fingerprint(data: bytes, chunk_tokens: int, overlap: int) -> str:
    """The content hash that, with the chunking settings, decides whether a file is re-indexed."""
    digest = hashlib.sha256(data)
    digest.update(f"|{chunk_tokens}|{overlap}|{PIPELINE_VERSION}".encode())
    return digest.hexdigest()[:32]

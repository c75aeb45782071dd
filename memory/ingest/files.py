"""Which files an ingest covers, and the fingerprint that decides whether one changed."""

from __future__ import annotations

import fnmatch
import hashlib
import os
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
    """A file an ingest will look at; ``source`` is its resolved POSIX path."""

    path: Path
    source: str
    root: str


def resolve_roots(paths: Sequence[Path]) -> list[Path]:
    """Existing, resolved paths, or ``UserInputError`` naming the first missing one."""
    if not paths:
        raise UserInputError("give at least one file or directory to ingest")
    roots = []
    for p in paths:
        if not p.exists():
            raise UserInputError(f"no such file or directory: {p}", hint="check the path")
        if p.is_file() and p.suffix.lower() not in LOADERS:
            kinds = " ".join(sorted(LOADERS))
            raise UserInputError(
                f"cannot ingest {p}: unsupported file type {p.suffix or '(none)'}",
                hint=f"give files of these types, or a folder: {kinds}",
            )
        roots.append(p.resolve())
    return roots


def _excluded(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(name, pat) for pat in patterns)


def walk(roots: Sequence[Path], excludes: Sequence[str] = DEFAULT_EXCLUDES) -> Iterator[Candidate]:
    """Every supported file under ``roots`` in a stable order, skipping excluded names."""
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
                yield Candidate(path, source, root.as_posix())


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

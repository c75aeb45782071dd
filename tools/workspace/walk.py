"""Walk a workspace the way ripgrep does: .gitignore files respected, .git and caches skipped.

Symlinks are listed but never followed, so a walk cannot leave the workspace; FIFOs, devices and
sockets are not listed at all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pathspec

from autan.tools.sandbox.workspace import SKIPPED
from autan.tools.workspace.paths import TEMP_SUFFIX

Rules = list[tuple[str, pathspec.GitIgnoreSpec]]


def _spec(path: Path) -> pathspec.GitIgnoreSpec | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(text.splitlines())


def _ignored(rules: Rules, rel: str) -> bool:
    """Whether ``rel`` (``dir/`` for folders) is ignored; a deeper .gitignore has the last word."""
    verdict = False
    for base, spec in rules:
        if base and not rel.startswith(base):
            continue
        result = spec.check_file(rel[len(base) :])
        if result.include is not None:
            verdict = result.include
    return verdict


def _root_rules(root: Path) -> Rules:
    rules: Rules = []
    for name in (".git/info/exclude", ".gitignore"):
        spec = _spec(root / name)
        if spec is not None:
            rules.append(("", spec))
    return rules


def walk(root: Path, under: str = "") -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(relative POSIX path, entry) of every file and symlink under ``root/under``, not ignored."""
    start = root / under if under else root
    rules = _root_rules(root)
    if under and not start.is_dir():  # one file: search just it
        with os.scandir(start.parent) as entries:
            yield from ((under, e) for e in entries if e.name == start.name)
        return
    yield from _walk(start, start.relative_to(root).as_posix(), rules)


def _walk(folder: Path, rel: str, rules: Rules) -> Iterator[tuple[str, os.DirEntry[str]]]:
    prefix = "" if rel in ("", ".") else rel + "/"
    if prefix:
        own = _spec(folder / ".gitignore")
        if own is not None:
            rules = [*rules, (prefix, own)]
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        path = prefix + entry.name
        if entry.is_dir(follow_symlinks=False):
            if entry.name in SKIPPED or _ignored(rules, path + "/"):
                continue
            yield from _walk(Path(entry.path), path, rules)
        elif _listable(entry) and not _ignored(rules, path):
            yield path, entry


def _listable(entry: os.DirEntry[str]) -> bool:
    """Regular files and symlinks, but not an edit's temp file that a crash left behind."""
    if entry.name.endswith(TEMP_SUFFIX):
        return False
    return entry.is_file(follow_symlinks=False) or entry.is_symlink()

"""Walk a workspace the way ripgrep does: .gitignore files respected, .git and caches skipped.

Symlinks are listed but never followed, so a walk cannot leave the workspace; FIFOs, devices and
sockets are not listed at all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from operator import attrgetter
from pathlib import Path

import pathspec

from autan.tools.sandbox.workspace import SKIPPED
from autan.tools.workspace.paths import TEMP_SUFFIX


class Matcher:
    """Gitignore-style patterns compiled once; the last pattern that matches decides.

    pathspec parses the patterns; matching runs its compiled regexes directly, since its
    per-call path normalisation would cost more than the whole walk. Patterns ending in ``/``
    match folders only, so files are not tried against them.
    """

    def __init__(self, lines: list[str], *, pruned: bool = True) -> None:
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
        rules = [
            (p.regex, bool(p.include), line.rstrip().endswith("/"))
            for line, p in zip(lines, spec.patterns, strict=False)
            if p.include is not None and p.regex is not None
        ]
        self.dirs: list[tuple[re.Pattern[str], bool]] = [(r, i) for r, i, _ in reversed(rules)]
        # In a walk an ignored folder is never entered, so folder patterns cannot match its files.
        self.files = [(r, i) for r, i, dir_only in reversed(rules) if not (dir_only and pruned)]

    def check(self, rel: str) -> bool | None:
        """True: matched (ignored), False: re-included by a ``!`` pattern, None: no match.

        ``rel`` ends with ``/`` for a folder.
        """
        for regex, include in self.dirs if rel.endswith("/") else self.files:
            if regex.match(rel):
                return include
        return None


Rules = list[tuple[str, Matcher]]


def _spec(path: Path) -> Matcher | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return Matcher(text.splitlines())


def _ignored(rules: Rules, rel: str) -> bool:
    """Whether ``rel`` (``dir/`` for folders) is ignored; a deeper .gitignore has the last word."""
    verdict = False
    for base, spec in rules:
        if base and not rel.startswith(base):
            continue
        found = spec.check(rel[len(base) :])
        if found is not None:
            verdict = found
    return verdict


def _root_rules(root: Path) -> Rules:
    rules: Rules = []
    for name in (".git/info/exclude", ".gitignore"):
        spec = _spec(root / name)
        if spec is not None:
            rules.append(("", spec))
    return rules


def walk(root: Path, under: str = "") -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(relative POSIX path, entry) of every file and symlink under ``root/under``, not ignored.

    Paths come in sorted order, folder by folder; an ignored folder is not entered at all.
    """
    start = root / under if under else root
    if under and not start.is_dir():  # one file: search just it
        with os.scandir(start.parent) as scan:
            yield from ((under, e) for e in scan if e.name == start.name)
        return
    rules = _root_rules(root)
    parts = under.split("/") if under else []
    for depth in range(1, len(parts)):  # the .gitignore files of the folders above ``under``
        prefix = "/".join(parts[:depth]) + "/"
        own = _spec(root / prefix / ".gitignore")
        rules = rules if own is None else [*rules, (prefix, own)]
    first = _enter(start, under + "/" if under else "", rules)
    stack = [first] if first else []
    while stack:
        entries, prefix, rules = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        path = prefix + entry.name
        if entry.is_dir(follow_symlinks=False):
            if entry.name not in SKIPPED and not _ignored(rules, path + "/"):
                inner = _enter(Path(entry.path), path + "/", rules)
                stack += [inner] if inner else []
        elif _listable(entry) and not _ignored(rules, path):
            yield path, entry


Level = tuple[Iterator[os.DirEntry[str]], str, Rules]


def _enter(folder: Path, prefix: str, rules: Rules) -> Level | None:
    """A folder's entries in name order, with its own .gitignore added to the rules."""
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=attrgetter("name"))
    except OSError:
        return None
    if prefix and any(e.name == ".gitignore" for e in entries):
        own = _spec(folder / ".gitignore")
        rules = rules if own is None else [*rules, (prefix, own)]
    return iter(entries), prefix, rules


def _listable(entry: os.DirEntry[str]) -> bool:
    """Regular files and symlinks, but not an edit's temp file that a crash left behind."""
    if entry.name.endswith(TEMP_SUFFIX):
        return False
    return entry.is_file(follow_symlinks=False) or entry.is_symlink()

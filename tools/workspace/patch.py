"""Unified diffs: make one for a change, parse one strictly, and apply its hunks to a text.

Parsing is strict on purpose: a hunk whose line counts do not add up, or any line the format does
not know (a truncation marker, say), makes the whole diff malformed, so a cut-off diff is refused
rather than half applied. A hunk whose old lines are not in the file is a conflict.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from autan.errors import UserInputError

NO_EOL = "\\ No newline at end of file"
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
DEV_NULL = "/dev/null"


class PatchConflict(UserInputError):
    """The diff does not fit the file as it is now."""


def make_diff(path: str, old: str | None, new: str | None) -> str:
    """A unified diff of ``path`` from ``old`` to ``new`` (None: the file is absent)."""
    a = f"a/{path}" if old is not None else DEV_NULL
    b = f"b/{path}" if new is not None else DEV_NULL
    lines = difflib.unified_diff(_lines(old or ""), _lines(new or ""), a, b)
    out: list[str] = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:
            out += [line + "\n", NO_EOL + "\n"]
    return "".join(out)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


@dataclass
class Hunk:
    """One ``@@`` block: where it claims to start, and its old and new lines."""

    old_start: int
    old: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)


@dataclass
class FilePatch:
    """The hunks of one file; ``old_path``/``new_path`` is None for a created/deleted file."""

    old_path: str | None
    new_path: str | None
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def path(self) -> str:
        """The workspace path the patch touches."""
        return self.new_path or self.old_path or ""


def _header_path(line: str) -> str | None:
    name = line[4:].split("\t", 1)[0].strip()
    if name == DEV_NULL:
        return None
    if name.startswith(("a/", "b/")):
        name = name[2:]
    if not name:
        raise UserInputError(f"diff header without a path: {line.strip()!r}")
    return name


def _malformed(number: int, reason: str) -> UserInputError:
    return UserInputError(
        f"malformed diff at line {number}: {reason}",
        hint="pass a complete unified diff (--- a/path, +++ b/path, @@ hunks)",
    )


def _strip_eol(hunk: Hunk, last: str) -> None:
    """Apply a no-newline marker to the line before it (both sides for a context line)."""
    for side in {"-": [hunk.old], "+": [hunk.new], " ": [hunk.old, hunk.new]}[last]:
        side[-1] = side[-1].removesuffix("\n")


def _read_hunk(lines: list[str], i: int, header: re.Match[str]) -> tuple[Hunk, int]:
    """Parse one hunk starting after its header line; returns it and the next line index."""
    old_left = int(header[2] if header[2] is not None else 1)
    new_left = int(header[4] if header[4] is not None else 1)
    hunk = Hunk(int(header[1]))
    last = ""
    while old_left > 0 or new_left > 0 or (i < len(lines) and lines[i].startswith("\\")):
        if i >= len(lines):
            raise _malformed(i + 1, "the diff ends inside a hunk (was it cut off?)")
        line = lines[i]
        tag, body = (" ", "\n") if line == "\n" else (line[:1], line[1:])
        if line.rstrip("\n") == NO_EOL and last:
            _strip_eol(hunk, last)
        elif tag == " ":
            hunk.old.append(body)
            hunk.new.append(body)
            old_left, new_left = old_left - 1, new_left - 1
        elif tag == "-":
            hunk.old.append(body)
            old_left -= 1
        elif tag == "+":
            hunk.new.append(body)
            new_left -= 1
        else:
            raise _malformed(i + 1, f"unexpected line {line[:40]!r} inside a hunk")
        last = "" if tag == "\\" else tag
        i += 1
        if old_left < 0 or new_left < 0:
            raise _malformed(i, "a hunk has more lines than its header says")
    return hunk, i


def parse_diff(text: str) -> list[FilePatch]:
    """Every file patch in a unified diff; anything malformed raises UserInputError."""
    lines = text.splitlines(keepends=True)
    patches: list[FilePatch] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            patches.append(FilePatch(_header_path(line), _header_path(lines[i + 1])))
            i += 2
        elif line.startswith("@@"):
            header = _HUNK.match(line)
            if header is None or not patches:
                raise _malformed(i + 1, "a hunk header without a file header before it")
            hunk, i = _read_hunk(lines, i + 1, header)
            patches[-1].hunks.append(hunk)
        elif line.startswith(("\\", "+", "-", " ")):
            raise _malformed(i + 1, f"unexpected line {line[:40]!r} outside a hunk")
        else:
            i += 1  # git's "diff --git", "index ..." and other prose between files
    if not patches:
        raise UserInputError("no file changes found in the diff", hint="pass a unified diff")
    return patches


def _find(lines: list[str], block: list[str], hint: int, start: int, path: str) -> int:
    """Where ``block`` sits in ``lines``: at ``hint`` if it fits there, else its only place."""
    size = len(block)
    if lines[hint : hint + size] == block and hint >= start:
        return hint
    spots = [i for i in range(start, len(lines) - size + 1) if lines[i : i + size] == block]
    if len(spots) == 1:
        return spots[0]
    where = "nowhere" if not spots else f"{len(spots)} places"
    raise PatchConflict(
        f"a hunk's old lines match {where} in {path} as it is now; nothing was written",
        hint="read the file again and make the diff against its current content",
    )


def apply_hunks(text: str | None, patch: FilePatch) -> str | None:
    """The text after ``patch``; None when it deletes the file. PatchConflict if it does not fit."""
    if patch.old_path is None and text is not None:
        raise PatchConflict(f"{patch.path} already exists; the diff creates it")
    if patch.old_path is not None and text is None and any(h.old for h in patch.hunks):
        raise PatchConflict(f"{patch.old_path} does not exist; the diff changes it")
    lines = _lines(text or "")
    out: list[str] = []
    pos = 0
    for hunk in patch.hunks:
        if not hunk.old:
            at = min(max(hunk.old_start, 0), len(lines)) if hunk.old_start else 0
            at = max(at, pos)
        else:
            at = _find(lines, hunk.old, max(hunk.old_start - 1, 0), pos, patch.path)
        out += lines[pos:at] + hunk.new
        pos = at + len(hunk.old)
    out += lines[pos:]
    if patch.new_path is None:
        if out:
            raise PatchConflict(f"{patch.path} has content the deleting diff does not remove")
        return None
    return "".join(out)

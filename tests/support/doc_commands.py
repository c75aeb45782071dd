"""Shell commands of the docs, as a reader would type them, with the outcome each one documents.

A fenced block tagged ``bash``, ``sh`` or ``console`` holds one command per line (``\\`` joins
continued lines; ``$ `` prompts are dropped; in a ``console`` block the lines without a prompt are
the output of the command above). HTML comments just before a block steer the test
(docs/contributing.md, "Documented commands are tests"):

- ``<!-- doc-test: skip REASON -->`` skips the block; ``<!-- doc-test: skip 2,4 REASON -->`` only
  its 2nd and 4th commands.
- ``<!-- doc-test: exit N -->`` every command of the block exits N (default 0).
- ``<!-- doc-test: expect 2 TEXT -->`` the block's 2nd command prints a line containing TEXT.
- ``<!-- doc-test: loopback -->`` web addresses go to a loopback stand-in, not the internet.
- ``<!-- doc-test: setup COMMAND -->`` a shell command that prepares scratch files first.
- ``<!-- doc-test: fill RUN_ID run (\\w+): -->`` the placeholder RUN_ID stands for the group of
  the regular expression's last match in what earlier commands of the document printed.
- ``<!-- doc-test: file NAME -->`` before any block: the reader saves that block as NAME.

A ```` ```text ```` block right after a command block is the expected output of its last command.
Expected lines must appear in order in the output; ``...`` inside a line matches anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SHELL_TAGS = frozenset({"bash", "sh", "console", "shell"})
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
_DIRECTIVE = re.compile(r"^\s*<!--\s*doc-test:\s*(.*?)\s*-->\s*$")
_SELECT = re.compile(r"^(\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*)\s+")


class DocSyntaxError(ValueError):
    """A doc-test directive the harness cannot read (the doc must be fixed)."""


@dataclass
class Command:
    """One command of a doc, where it is, and what the doc says it does."""

    doc: Path
    line: int
    text: str
    skip: str | None = None
    exit_code: int = 0
    loopback: bool = False
    setup: tuple[str, ...] = ()
    expect: list[str] = field(default_factory=list)
    fill: tuple[tuple[str, str], ...] = ()
    content: str | None = None  # set: this "command" saves ``content`` as the file ``text``

    @property
    def where(self) -> str:
        """``README.md:33`` for messages."""
        return f"{self.doc.name}:{self.line}"


@dataclass
class _Directives:
    skip_all: str | None = None
    skip_some: dict[int, str] = field(default_factory=dict)
    exit_code: int = 0
    loopback: bool = False
    setup: list[str] = field(default_factory=list)
    fill: list[tuple[str, str]] = field(default_factory=list)
    file: str | None = None
    expect: dict[int, list[str]] = field(default_factory=dict)


def _parse_directive(text: str, into: _Directives, where: str) -> None:
    verb, _, rest = text.partition(" ")
    rest = rest.strip()
    if verb == "skip":
        select = _SELECT.match(rest)
        if not (rest[select.end() :] if select else rest):
            raise DocSyntaxError(f"{where}: 'doc-test: skip' needs a reason")
        if select is None:
            into.skip_all = rest
            return
        for part in select.group(1).split(","):
            lo, _, hi = part.partition("-")
            for n in range(int(lo), int(hi or lo) + 1):
                into.skip_some[n] = rest[select.end() :]
    elif verb == "expect" and _SELECT.match(rest) and rest.split(" ", 1)[0].isdigit():
        index, text = rest.split(" ", 1)
        into.expect.setdefault(int(index), []).append(f"...{text.strip()}...")
    elif verb == "exit" and rest.isdigit():
        into.exit_code = int(rest)
    elif verb == "loopback" and not rest:
        into.loopback = True
    elif verb == "setup" and rest:
        into.setup.append(rest)
    elif verb == "fill" and len(rest.split()) >= 2:
        placeholder, _, pattern = rest.partition(" ")
        into.fill.append((placeholder, pattern.strip()))
    elif verb == "file" and rest:
        into.file = rest
    else:
        raise DocSyntaxError(f"{where}: unknown directive 'doc-test: {text}'")


def logical_lines(lines: list[str], first: int, console: bool) -> list[tuple[int, str, bool]]:
    """(line number, text, is_command) with ``\\`` continuations joined and prompts dropped."""
    out: list[tuple[int, str, bool]] = []
    pending: tuple[int, str] | None = None
    for offset, raw in enumerate(lines):
        line = raw.rstrip()
        if pending is not None:
            number, text = pending[0], pending[1] + " " + line.lstrip()
        elif console and not line.startswith("$ "):
            if line.strip():
                out.append((first + offset, line, False))
            continue
        else:
            number, text = first + offset, line[2:] if line.startswith("$ ") else line
        if text.endswith("\\"):
            pending = (number, text[:-1].rstrip())
            continue
        pending = None
        if text.strip() and not text.lstrip().startswith("#"):
            out.append((number, text.strip(), True))
    return out


def _block_commands(
    doc: Path, lines: list[str], first: int, tag: str, found: _Directives
) -> list[Command]:
    commands: list[Command] = []
    for number, text, is_command in logical_lines(lines, first, tag == "console"):
        if not is_command:
            if commands:
                commands[-1].expect.append(text)
            continue
        index = len(commands) + 1
        skip = found.skip_all or found.skip_some.get(index)
        command = Command(doc, number, text, skip, found.exit_code, found.loopback)
        command.setup = () if commands else tuple(found.setup)  # once, before the block
        command.fill = tuple(found.fill)
        command.expect = list(found.expect.get(index, []))
        commands.append(command)
    return commands


def parse(doc: Path) -> list[Command]:
    """Every shell command of ``doc`` in reading order."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    commands: list[Command] = []
    found, last_shell = _Directives(), False
    i = 0
    while i < len(lines):
        directive = _DIRECTIVE.match(lines[i])
        fence = _FENCE.match(lines[i])
        if directive:
            _parse_directive(directive.group(1), found, f"{doc.name}:{i + 1}")
        elif fence:
            end = _fence_end(lines, i, fence.group(2))
            tag = fence.group(3).lower()
            body = lines[i + 1 : end]
            if found.file is not None:
                content = "\n".join(body) + "\n"
                commands.append(Command(doc, i + 1, found.file, found.skip_all, content=content))
            elif tag in SHELL_TAGS:
                commands += _block_commands(doc, body, i + 2, tag, found)
            elif tag == "text" and last_shell and commands:
                commands[-1].expect += [b for b in body if b.strip()]
            last_shell, found, i = tag in SHELL_TAGS, _Directives(), end
        elif (
            lines[i].strip() and not lines[i].lstrip().startswith("<!--") and found != _Directives()
        ):
            raise DocSyntaxError(f"{doc.name}:{i + 1}: a doc-test directive must precede a block")
        elif lines[i].strip():
            last_shell = False
        i += 1
    return commands


def _fence_end(lines: list[str], start: int, fence: str) -> int:
    for j in range(start + 1, len(lines)):
        if (
            lines[j].strip().startswith(fence[0] * len(fence))
            and not lines[j].strip()[len(fence) :].strip()
        ):
            return j
    raise DocSyntaxError(f"line {start + 1}: unclosed code fence")

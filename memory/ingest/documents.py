"""What loaders produce: a document's text cut into heading-labelled sections.

Markdown-style sectioning lives here because three formats share it: Markdown itself, HTML
(extracted to Markdown by trafilatura) and notebooks (their Markdown cells carry the headings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ATX = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


class Skip(Exception):  # noqa: N818 - a signal, not an error
    """A file that cannot be indexed (binary, empty, unreadable); carries the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path; ``start`` is its offset in the document text."""

    heading_path: tuple[str, ...]
    text: str
    start: int


@dataclass(frozen=True)
class Document:
    """A loaded file: its title, its full extracted text and that text cut into sections."""

    title: str
    text: str
    sections: list[Section] = field(default_factory=list)


def clean_heading(text: str) -> str:
    """A heading without Sphinx pilcrows, Markdown emphasis or escapes."""
    text = re.sub(r"\\(.)", r"\1", text)
    return text.replace("¶", "").replace("`", "").replace("*", "").strip()


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        out.append((pos, line.rstrip("\r\n")))
        pos += len(line)
    return out


def heading_marks(text: str) -> list[tuple[int, int, str]]:
    """(offset, level, title) of every ATX heading outside fenced code blocks."""
    marks: list[tuple[int, int, str]] = []
    fenced = False
    for offset, line in _lines(text):
        if _FENCE.match(line) or line.count("```") % 2:  # extractors leave fences mid-line
            fenced = not fenced
            continue
        match = None if fenced else _ATX.match(line)
        if match:
            title = clean_heading(match.group(2))
            if title:
                marks.append((offset, len(match.group(1)), title))
    return marks


def sections_from_marks(text: str, marks: list[tuple[int, int, str]]) -> list[Section]:
    """Cut ``text`` at each heading; each section knows the path of headings above it."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    bounds = [(0, None)] + [(m[0], m) for m in marks]
    for i, (start, mark) in enumerate(bounds):
        end = bounds[i + 1][0] if i + 1 < len(bounds) else len(text)
        if mark is not None:
            _, level, title = mark
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
        body = text[start:end]
        if body.strip():
            sections.append(Section(tuple(t for _, t in stack), body, start))
    return sections


def markdown_document(text: str, fallback_title: str) -> Document:
    """A Markdown text sectioned by its ATX headings; the first H1 (or any heading) is the title."""
    marks = heading_marks(text)
    top = [m for m in marks if m[1] == 1] or marks
    title = top[0][2] if top else fallback_title
    return Document(title, text, sections_from_marks(text, marks))


def plain_document(text: str, title: str) -> Document:
    """Text without structure: one section, no headings."""
    return Document(title, text, [Section((), text, 0)])

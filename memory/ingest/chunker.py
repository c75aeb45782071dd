"""Heading-aware chunks sized in tokens, with overlap, that never cross a section boundary.

Tokens are word and punctuation pieces (a close, cheap stand-in for a model's sub-word count);
chunks prefer to end at a paragraph break in their second half.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from autan.memory.ingest.documents import Document, Section

_TOKEN = re.compile(r"\w+|[^\w\s]")
_PARAGRAPH = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class Chunk:
    """One passage: its text, character offsets in the document text, headings and hash."""

    ordinal: int
    text: str
    start: int
    end: int
    heading_path: tuple[str, ...]

    @property
    def content_hash(self) -> str:
        """A short stable hash of the passage text."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]


def _windows(section: Section, size: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) character spans inside the section text."""
    spans = [m.span() for m in _TOKEN.finditer(section.text)]
    if not spans:
        return []
    breaks = {m.end() for m in _PARAGRAPH.finditer(section.text)}
    starts_at_break = [i for i, (s, _) in enumerate(spans) if s in breaks or i == 0]
    out: list[tuple[int, int]] = []
    first = 0
    while first < len(spans):
        last = min(first + size, len(spans))
        if last < len(spans):
            good = [b for b in starts_at_break if first + size // 2 < b <= last]
            last = good[-1] if good else last
        out.append((spans[first][0], spans[last - 1][1]))
        if last >= len(spans):
            break
        first = max(last - overlap, first + 1)
    return out


def chunk_document(doc: Document, size: int = 256, overlap: int = 32) -> list[Chunk]:
    """Every section cut into windows of at most ``size`` tokens overlapping by ``overlap``."""
    size = max(size, 16)
    overlap = min(max(overlap, 0), size // 2)
    chunks: list[Chunk] = []
    for section in doc.sections:
        for begin, end in _windows(section, size, overlap):
            text = section.text[begin:end]
            if text.strip():
                chunks.append(
                    Chunk(
                        ordinal=len(chunks),
                        text=text,
                        start=section.start + begin,
                        end=section.start + end,
                        heading_path=section.heading_path,
                    )
                )
    return chunks


def context_text(title: str, chunk: Chunk) -> str:
    """What gets embedded and BM25-indexed: the passage under its title and headings."""
    trail = [title] + [h for h in chunk.heading_path if h != title]
    return " › ".join(t for t in trail if t) + "\n" + chunk.text

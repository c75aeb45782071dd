"""File → Document, one loader per format: .md .rst .txt .html .py .pdf .ipynb.

Loaders raise ``Skip(reason)`` for binary, empty, undecodable or unparsable files; the pipeline
counts and reports those and never crashes on them.
"""

from __future__ import annotations

import ast
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

from autan.memory.ingest.documents import (
    Document,
    Section,
    Skip,
    clean_heading,
    markdown_document,
    plain_document,
    sections_from_marks,
)

_RST_ADORN = re.compile(r"^([=\-~^\"'`*+#:.])\1{2,}\s*$")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>|])")


def decode(data: bytes) -> str:
    """UTF-8 text of a file, or ``Skip`` for binary, undecodable or blank content."""
    if b"\x00" in data[:8192]:
        raise Skip("binary")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Skip("not UTF-8 text") from None
    if not text.strip():
        raise Skip("empty")
    return text


def load_markdown(data: bytes, path: Path) -> Document:
    """Markdown sectioned by its ATX headings."""
    return markdown_document(decode(data), path.stem)


def load_text(data: bytes, path: Path) -> Document:
    """Plain text: one untitled section."""
    return plain_document(decode(data), path.stem)


def load_rst(data: bytes, path: Path) -> Document:
    """RST split at underlined (and overlined) titles; levels follow first use."""
    text = decode(data)
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    styles: list[tuple[str, bool]] = []
    marks: list[tuple[int, int, str]] = []
    for i in range(len(lines) - 1):
        title, under = lines[i].strip(), lines[i + 1].rstrip()
        adorn = _RST_ADORN.match(under)
        if not title or not adorn or _RST_ADORN.match(title) or len(under) < len(title):
            continue
        over = i > 0 and lines[i - 1].rstrip() == under
        style = (adorn.group(1), over)
        if style not in styles:
            styles.append(style)
        start = offsets[i - 1] if over else offsets[i]
        marks.append((start, styles.index(style) + 1, clean_heading(title)))
    title = marks[0][2] if marks else path.stem
    return Document(title, text, sections_from_marks(text, marks))


def load_html(data: bytes, path: Path) -> Document:
    """Main text of an HTML page via trafilatura (as Markdown, so headings survive)."""
    try:
        import trafilatura
    except ImportError:  # pragma: no cover - part of the retrieval extra
        from autan.errors import missing_extra

        raise missing_extra("retrieval", "trafilatura") from None
    html = decode(data)
    extracted = trafilatura.extract(
        html,
        output_format="markdown",
        include_formatting=True,
        include_tables=True,
        include_comments=False,
        include_links=False,
        favor_recall=True,
    )
    if not extracted or not extracted.strip():
        raise Skip("no main text in the page")
    text = _MD_ESCAPE.sub(r"\1", extracted)
    match = re.search(r"<title[^>]*>(.*?)</title>", html, re.I | re.S)
    doc = markdown_document(text, path.stem)
    if match and doc.title == path.stem:
        doc = Document(clean_heading(match.group(1)), doc.text, doc.sections)
    return doc


def _py_sections(tree: ast.Module, text: str, module: str) -> list[Section]:
    """Module prelude, then one section per top-level function and class, and per method."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def span(node: ast.stmt) -> tuple[int, int]:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        return starts[first - 1], starts[min(node.end_lineno or node.lineno, len(starts) - 1)]

    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    pieces: list[tuple[int, int, tuple[str, ...]]] = []
    for node in tree.body:
        if not isinstance(node, defs):
            continue
        begin, end = span(node)
        methods = [n for n in getattr(node, "body", []) if isinstance(n, defs)]
        head_end = span(methods[0])[0] if isinstance(node, ast.ClassDef) and methods else end
        pieces.append((begin, head_end, (module, node.name)))
        for m in methods if isinstance(node, ast.ClassDef) else []:
            m_begin, m_end = span(m)
            pieces.append((m_begin, m_end, (module, node.name, m.name)))
    first = pieces[0][0] if pieces else len(text)
    sections = [Section((module,), text[:first], 0)] if text[:first].strip() else []
    sections += [Section(path, text[b:e], b) for b, e, path in pieces if text[b:e].strip()]
    return sections


def load_python(data: bytes, path: Path) -> Document:
    """Python source cut by module, class and function (syntax errors fall back to plain text)."""
    text = decode(data)
    module = path.stem
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return plain_document(text, module)
    doc_title = (ast.get_docstring(tree) or "").strip().splitlines()
    title = f"{module} — {doc_title[0]}" if doc_title else module
    return Document(title, text, _py_sections(tree, text, module))


def load_notebook(data: bytes, path: Path) -> Document:
    """A Jupyter notebook: Markdown cells give headings, code cells become fenced blocks."""
    try:
        cells = json.loads(decode(data)).get("cells", [])
    except (json.JSONDecodeError, AttributeError):
        raise Skip("not a valid notebook") from None
    parts = []
    for cell in cells if isinstance(cells, list) else []:
        source = cell.get("source", "") if isinstance(cell, dict) else ""
        body = "".join(source) if isinstance(source, list) else str(source)
        if not body.strip():
            continue
        parts.append(f"```python\n{body}\n```" if cell.get("cell_type") == "code" else body)
    if not parts:
        raise Skip("empty")
    return markdown_document("\n\n".join(parts) + "\n", path.stem)


def load_pdf(data: bytes, path: Path) -> Document:
    """A PDF's text via pypdf, one section per page."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError
    except ImportError:  # pragma: no cover - part of the retrieval extra
        from autan.errors import missing_extra

        raise missing_extra("retrieval", "pypdf") from None
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = reader.metadata.title if reader.metadata else None
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise Skip(f"unreadable PDF: {type(exc).__name__}") from None
    text, sections = "", []
    for number, page in enumerate(pages, 1):
        if page.strip():
            sections.append(Section((f"page {number}",), page, len(text)))
        text += page + "\n\n"
    if not sections:
        raise Skip("no extractable text")
    return Document(str(meta_title or path.stem), text, sections)


LOADERS: dict[str, Callable[[bytes, Path], Document]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".rst": load_rst,
    ".txt": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".py": load_python,
    ".ipynb": load_notebook,
    ".pdf": load_pdf,
}


def load(path: Path, data: bytes | None = None) -> Document:
    """Load one file by its extension; ``Skip`` for anything that cannot be indexed."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise Skip(f"unsupported file type {path.suffix or '(none)'}")
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise Skip(f"unreadable: {exc.strerror or exc}") from None
    return loader(data, path)

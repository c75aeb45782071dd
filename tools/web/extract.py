"""Readable text from a fetched body, whatever its type and charset.

trafilatura for HTML (headings and lists kept as markdown, boilerplate dropped), pypdf for PDF,
pretty-printed JSON, plain text otherwise.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin

from autan.errors import BackendError, missing_extra
from autan.tools.web.limits import media_type

MAX_LINKS = 100
MAX_PDF_PAGES = 200
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANKS = re.compile(r"\n{3,}")


@dataclass
class Extracted:
    """What a page says: its title, its main text, and where it links to."""

    title: str
    text: str
    links: list[dict[str, str]] = field(default_factory=list)


def _charset(content_type: str) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type, re.I)
    return match.group(1) if match else None


def decode(body: bytes, content_type: str) -> str:
    """Text of ``body``: the declared charset, else a <meta> one, else UTF-8, else a best guess."""
    meta = _META_CHARSET.search(body[:4096])
    for name in (_charset(content_type), meta.group(1).decode("ascii") if meta else None):
        if name:
            try:
                return body.decode(codecs.lookup(name).name, errors="replace")
            except LookupError:
                continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    return str(best) if best is not None else body.decode("latin-1")


def _tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def extract(body: bytes, content_type: str, url: str) -> Extracted:
    """Title, main text and links of a response body of the given content type."""
    kind = media_type(content_type) or _sniff(body)
    if kind == "application/pdf":
        return _pdf(body)
    text = decode(body, content_type)
    if kind in ("text/html", "application/xhtml+xml"):
        return _html(text, url)
    if kind == "application/json" or kind.endswith("+json"):
        try:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return Extracted(title="", text=text.strip())


def _sniff(body: bytes) -> str:
    head = body[:512].lstrip().lower()
    if head.startswith(b"%pdf-"):
        return "application/pdf"
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return "text/html"
    return "text/plain"


def _html(html: str, url: str) -> Extracted:
    try:
        import lxml.html
        import trafilatura
    except ImportError as exc:
        raise missing_extra("web", exc.name or "trafilatura") from None
    html = _XML_DECL.sub("", html)
    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return Extracted(title="", text=_tidy(html))
    title = _tidy(tree.findtext(".//title") or tree.findtext(".//h1") or "")
    links = _links(tree, url)
    doc = (
        trafilatura.bare_extraction(  # metadata extraction would double the time; <title> is enough
            html, url=url, with_metadata=False, include_formatting=True, include_tables=True
        )
    )
    text = getattr(doc, "text", None) or tree.text_content()
    return Extracted(title=title, text=_tidy(text), links=links)


def _links(tree: Any, base: str) -> list[dict[str, str]]:
    found: dict[str, str] = {}
    for anchor in tree.iterfind(".//a[@href]"):
        href = str(anchor.get("href", "")).strip()
        absolute = urldefrag(urljoin(base, href))[0]
        if absolute.startswith(("http://", "https://")) and absolute not in found:
            found[absolute] = _tidy(anchor.text_content())[:200]
            if len(found) >= MAX_LINKS:
                break
    return [{"url": u, "text": t} for u, t in found.items()]


def _pdf(body: bytes) -> Extracted:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError
    except ImportError:
        raise missing_extra("web", "pypdf") from None
    try:
        reader = PdfReader(io.BytesIO(body))
        pages = [page.extract_text() or "" for page in reader.pages[:MAX_PDF_PAGES]]
        title = str(reader.metadata.title or "") if reader.metadata else ""
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise BackendError(f"cannot read the PDF: {exc}") from None
    return Extracted(title=_tidy(title), text=_tidy("\n\n".join(pages)))

from __future__ import annotations

from pathlib import Path

import pytest

from autan.memory.ingest.chunker import _TOKEN, chunk_document
from autan.memory.ingest.documents import Skip
from autan.memory.ingest.loaders import load

from .corpus import write_corpus


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "docs")


def _paths(doc) -> list[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    return [s.heading_path for s in doc.sections]


def test_markdown_and_rst_headings(corpus: Path) -> None:
    md = load(corpus / "guide" / "files.md")
    assert md.title == "Files guide"
    assert ("Files guide", "Reading") in _paths(md)
    rst = load(corpus / "guide" / "sorting.rst")
    assert rst.title == "Sorting HOWTO"
    assert ("Sorting HOWTO", "Key functions") in _paths(rst)


def test_html_python_notebook_pdf(corpus: Path) -> None:
    html = load(corpus / "json.html")
    assert ("The json module", "Pretty printing") in _paths(html)
    py = load(corpus / "geometry.py")
    assert {("geometry", "area"), ("geometry", "Shape"), ("geometry", "Shape", "perimeter")} <= set(
        _paths(py)
    )
    assert py.title.startswith("geometry")
    nb = load(corpus / "analysis.ipynb")
    assert ("Notebook analysis", "Plotting") in _paths(nb)
    assert ("not a heading",) not in _paths(nb) and "import pandas" in nb.text
    pdf = load(corpus / "paper.pdf")
    assert _paths(pdf) == [("page 1",)] and "attention" in pdf.text


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.md", "empty"),
        ("binary.txt", "binary"),
        ("latin1.txt", "UTF-8"),
        ("broken.pdf", "PDF"),
    ],
)
def test_unindexable_files_are_skipped_with_a_reason(corpus: Path, name: str, reason: str) -> None:
    with pytest.raises(Skip, match=reason):
        load(corpus / name)


def test_chunks_are_token_sized_overlapping_and_map_to_offsets(corpus: Path) -> None:
    words = " ".join(f"word{i}" for i in range(500))
    text = f"# Title\n\n{words}\n\n## Next\n\nshort tail\n"
    path = corpus / "long.md"
    path.write_text(text)
    doc = load(path)
    chunks = chunk_document(doc, size=100, overlap=20)
    assert len(chunks) >= 6
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert len(_TOKEN.findall(c.text)) <= 100
    first, second = chunks[0], chunks[1]
    assert second.start < first.end  # overlap
    assert chunks[-1].heading_path == ("Title", "Next")  # never crosses a heading
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))

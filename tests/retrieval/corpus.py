"""A small mixed-format corpus for ingestion tests, written into a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

MD = """# Files guide

Intro to working with files.

## Reading

To read a file line by line, loop over the file object with a for statement.

## Writing

Open the file in write mode and call write. Close it with a context manager.
"""

RST = """Sorting HOWTO
=============

Key functions
-------------

Both list.sort() and sorted() have a key parameter to specify a function.
"""

HTML = """<html><head><title>Json page</title></head><body><article>
<h1>The json module</h1><p>The json module parses JSON text into Python dictionaries and lists.
It is used by many programs to exchange structured data with web services today.</p>
<h2>Pretty printing</h2><p>Use the indent argument of json.dumps to pretty print nested data
so that people can read it more easily in logs and configuration files.</p>
</article></body></html>"""

PY = '''"""Geometry helpers."""

import math


def area(radius):
    """Area of a circle."""
    return math.pi * radius ** 2


class Shape:
    """A shape."""

    def perimeter(self):
        """Perimeter of the shape."""
        return 0
'''

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "source": ["# Notebook analysis\n", "Load the data."]},
        {"cell_type": "code", "source": ["import pandas\n", "# not a heading\n", "df = 1"]},
        {"cell_type": "markdown", "source": "## Plotting\nPlot the histogram of values."},
    ],
    "nbformat": 4,
}


def tiny_pdf(text: str) -> bytes:
    """A valid one-page PDF showing ``text`` (built by hand: pypdf only reads text)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def write_corpus(root: Path) -> Path:
    """Seven good files and four that must be skipped."""
    (root / "guide").mkdir(parents=True)
    (root / "guide" / "files.md").write_text(MD)
    (root / "guide" / "sorting.rst").write_text(RST)
    (root / "notes.txt").write_text("Plain notes about urllib and http requests.\n")
    (root / "json.html").write_text(HTML)
    (root / "geometry.py").write_text(PY)
    (root / "analysis.ipynb").write_text(json.dumps(NOTEBOOK))
    (root / "paper.pdf").write_bytes(tiny_pdf("Transformers use attention over tokens"))
    (root / "empty.md").write_text("   \n")
    (root / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (root / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (root / "image.png").write_bytes(b"\x89PNG")  # unsupported: never looked at
    (root / ".git").mkdir()
    (root / ".git" / "config.txt").write_text("excluded folder")
    return root

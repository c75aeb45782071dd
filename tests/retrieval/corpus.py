"""A small mixed-format corpus for ingestion tests, written into a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.pdf import one_page_pdf

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


def write_corpus(root: Path) -> Path:
    """Seven good files and four that must be skipped."""
    (root / "guide").mkdir(parents=True)
    (root / "guide" / "files.md").write_text(MD)
    (root / "guide" / "sorting.rst").write_text(RST)
    (root / "notes.txt").write_text("Plain notes about urllib and http requests.\n")
    (root / "json.html").write_text(HTML)
    (root / "geometry.py").write_text(PY)
    (root / "analysis.ipynb").write_text(json.dumps(NOTEBOOK))
    (root / "paper.pdf").write_bytes(one_page_pdf("Transformers use attention over tokens"))
    (root / "empty.md").write_text("   \n")
    (root / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (root / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (root / "image.png").write_bytes(b"\x89PNG")  # unsupported: never looked at
    (root / ".git").mkdir()
    (root / ".git" / "config.txt").write_text("excluded folder")
    return root

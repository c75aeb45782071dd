"""Every shell command of README.md and docs/*.md runs, in reading order, and does what it says.

Each document gets one scratch home, data directory and checkout; its commands share them, so a
collection ingested near the top is there for the search below it. Skips carry the reason the doc
itself gives (``<!-- doc-test: skip REASON -->``); the conventions are in
tests/support/doc_commands.py and docs/contributing.md.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.doc_commands import Command, parse
from tests.support.doc_runner import REPO, Reader

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
COMMANDS = [c for doc in DOCS for c in parse(doc)]


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reader]:
    reading = Reader(tmp_path_factory.mktemp)
    yield reading
    reading.close()


@pytest.mark.parametrize("command", COMMANDS, ids=[c.where for c in COMMANDS])
def test_documented_command(reader: Reader, command: Command) -> None:
    if command.skip:
        pytest.skip(command.skip)
    problem = reader.run(command)
    assert problem is None, problem

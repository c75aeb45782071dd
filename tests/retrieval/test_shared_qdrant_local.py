"""qdrant-client local mode shared by processes: the folder is handed over, never "corrupt"."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from autan.memory.store_qdrant import QdrantStore

from . import test_shared_store as shared
from .test_shared_store import _autan, _start

# The embedded store's writer, pointed at a qdrant-client local folder instead.
WRITER = shared.WRITER.replace(
    "store_edge import EdgeStore", "store_qdrant import QdrantStore"
).replace("EdgeStore(root)", "QdrantStore(path=root)")
assert "QdrantStore(path=root)" in WRITER

HOLDER = r"""
import sys, time
from pathlib import Path
from autan.memory.store_qdrant import local_path_lock
lock = local_path_lock(Path(sys.argv[1]), 60.0, None)
lock.acquire()
print("held", flush=True)
for _ in range(600):  # stuck inside one long operation; bounded
    if Path(sys.argv[2]).exists():
        break
    time.sleep(0.05)
"""


@pytest.fixture
def qdrant_path(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AUTAN_RETRIEVAL__EMBEDDER", "hashing")
    monkeypatch.setenv("AUTAN_RETRIEVAL__BACKEND", "qdrant")
    path = Path(os.environ["AUTAN_DATA_DIR"]) / "qdrant"
    monkeypatch.setenv("AUTAN_RETRIEVAL__QDRANT_PATH", str(path))
    return path


def test_search_succeeds_while_another_process_writes_a_local_folder(
    qdrant_path: Path, tmp_path: Path
) -> None:
    stop = tmp_path / "stop"
    writer = _start(WRITER, str(qdrant_path), str(stop))
    try:
        found = _autan("search", "writing files", "--json", "-k", "3")
    finally:
        stop.touch()
        out, _ = writer.communicate(timeout=120)
    assert found.returncode == 0, found.stderr
    assert len(json.loads(found.stdout)["citations"]) == 3
    assert "corrupt" not in found.stderr and "already accessed" not in found.stderr
    assert writer.returncode == 0
    store = QdrantStore(path=qdrant_path)
    assert store.count("docs") == 20 * int(out.split()[-1])  # no batch lost to the reader
    store.close()


def test_a_held_local_folder_waits_then_names_the_holder(qdrant_path: Path, tmp_path: Path) -> None:
    stop = tmp_path / "stop"
    holder = _start(HOLDER, str(qdrant_path), str(stop))
    try:
        started = time.monotonic()
        result = _autan("search", "files", AUTAN_RETRIEVAL__LOCK_TIMEOUT_S="1")
        waited = time.monotonic() - started
    finally:
        stop.touch()
        holder.wait(timeout=60)
    assert result.returncode == 1, result.stderr
    assert f"process {holder.pid}" in result.stderr and "waiting for" in result.stderr
    assert f"Qdrant folder {qdrant_path}" in result.stderr
    assert "corrupt" not in result.stderr and "Traceback" not in result.stderr
    assert waited >= 1


def test_an_idle_store_hands_its_local_folder_over(qdrant_path: Path) -> None:
    idle = QdrantStore(path=qdrant_path)  # opened, then left alone (a long-lived process)
    idle.ensure_collection("docs", 256, "hashing-256")
    try:
        listed = _autan("collections", "list", "--json", AUTAN_RETRIEVAL__LOCK_TIMEOUT_S="20")
    finally:
        idle.close()
    assert listed.returncode == 0, listed.stderr
    assert "docs" in listed.stdout

"""The embedded store shared by processes: search during an ingest, a held lock, real damage."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autan.cli.app import main
from autan.memory.store_edge import EdgeStore

from .corpus import write_corpus

WRITER = r"""
import sys, time
from pathlib import Path
from autan.memory.embeddings import HashingEmbedder
from autan.memory.store_edge import EdgeStore
from autan.memory.vectorstore import Point
root, stop = Path(sys.argv[1]), Path(sys.argv[2])
embedder, store = HashingEmbedder(256), EdgeStore(root)
store.ensure_collection("docs", 256, embedder.name)
print("ready", flush=True)
batches = 0
for batch in range(600):  # bounded: about a minute at most
    texts = [f"passage {batch} {i} about writing files and reading them" for i in range(20)]
    points = [Point(f"/w/{batch}-{i}", v, t, {"source": f"/w/{batch}.md"})
              for i, (t, v) in enumerate(zip(texts, embedder.embed(texts)))]
    store.upsert("docs", points)
    batches += 1
    if stop.exists() and batches >= 5:
        break
    time.sleep(0.1)  # the time an embedder would take
store.close()
print("batches", batches, flush=True)
"""

HOLDER = r"""
import sys, time
from pathlib import Path
from autan.memory.store_lock import CollectionLock
lock = CollectionLock(Path(sys.argv[1]), "docs", notify=None)
lock.acquire()
print("held", flush=True)
for _ in range(600):  # a process stuck inside one long operation; bounded
    if Path(sys.argv[2]).exists():
        break
    time.sleep(0.05)
"""


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AUTAN_RETRIEVAL__EMBEDDER", "hashing")
    return Path(os.environ["AUTAN_DATA_DIR"])


def _start(script: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() in ("ready", "held")
    return proc


def _autan(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autan.cli.app", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def test_search_succeeds_while_another_process_ingests(data_dir: Path, tmp_path: Path) -> None:
    stop = tmp_path / "stop"
    writer = _start(WRITER, str(data_dir / "vectors"), str(stop))
    try:
        found = _autan("search", "writing files", "--json", "-k", "3")
        listed = _autan("collections", "list", "--json")
    finally:
        stop.touch()
        out, _ = writer.communicate(timeout=120)
    assert found.returncode == 0, found.stderr
    assert len(json.loads(found.stdout)["citations"]) == 3
    assert listed.returncode == 0 and "corrupt" not in listed.stderr
    assert writer.returncode == 0
    batches = int(out.split()[-1])
    store = EdgeStore(data_dir / "vectors")
    assert store.count("docs") == 20 * batches  # every batch landed, none lost to the readers
    store.close()


def test_a_held_collection_waits_then_names_the_holder(data_dir: Path, tmp_path: Path) -> None:
    assert main(["ingest", str(write_corpus(tmp_path / "docs")), "--json"]) == 0
    stop = tmp_path / "stop"
    holder = _start(HOLDER, str(data_dir / "vectors"), str(stop))
    try:
        started = time.monotonic()
        result = _autan("search", "files", AUTAN_RETRIEVAL__LOCK_TIMEOUT_S="1")
        waited = time.monotonic() - started
    finally:
        stop.touch()
        holder.wait(timeout=60)
    assert result.returncode == 1, result.stderr
    assert f"process {holder.pid}" in result.stderr and "waiting for" in result.stderr
    assert "corrupt" not in result.stderr and "Traceback" not in result.stderr
    assert waited >= 1
    assert _autan("search", "files").returncode == 0  # free again once the holder is gone


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".locks" not in p.parts
    }


def test_a_truncated_file_is_reported_corrupt_and_left_alone(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ingest", str(write_corpus(tmp_path / "docs")), "--json"]) == 0
    vectors = data_dir / "vectors"
    target = next((vectors / "docs" / "shard").rglob("vector_storage-dense/vectors/chunk_0.mmap"))
    size = target.stat().st_size
    with open(target, "r+b") as handle:
        handle.truncate(size // 3)
    before = _digest(vectors)
    capsys.readouterr()
    for args in (["search", "files"], ["ingest", str(tmp_path / "docs")]):
        code = main(args)
        err = capsys.readouterr().err
        assert code == 2 and "corrupt" in err and "chunk_0.mmap" in err, err
        assert err.count("\n") == 1
    assert _digest(vectors) == before

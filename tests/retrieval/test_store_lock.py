"""A collection held by another process: wait, then name the holder; never "corrupt"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autan.config import load_settings
from autan.errors import BackendError
from autan.memory import store_lock
from autan.memory.vectorstore import open_store

pytest.importorskip("qdrant_edge")

HOLD = """
import sys, time
from autan.config import load_settings
from autan.memory.vectorstore import open_store
store = open_store(load_settings(data_dir=sys.argv[1]))
store.count("docs")
print("held", flush=True)
sys.stdin.readline()
store.close()
"""


def test_a_held_collection_names_its_holder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(data_dir=tmp_path)
    store = open_store(settings)
    store.ensure_collection("docs", 4, "test")
    store.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(store_lock, "LOCK_WAIT_S", 0.5)
        second = open_store(settings)
        with pytest.raises(BackendError) as err:
            second.count("docs")
        assert f"process {holder.pid}" in str(err.value) and "corrupt" not in str(err.value)
        assert "AUTAN_SERVER_URL" in (err.value.hint or "")
    finally:
        if holder.stdin is not None:
            holder.stdin.write("\n")
            holder.stdin.flush()
        holder.wait(30)
    assert open_store(settings).count("docs") == 0  # released: the next process opens it

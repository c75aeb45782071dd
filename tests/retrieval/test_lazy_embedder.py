"""An ingest with nothing new loads no embedding model; one with new text loads the right one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autan.errors import ConfigError
from autan.memory.embeddings import HashingEmbedder, LazyEmbedder, embedder_for

PROBE = (
    "import json, sys; from autan.cli.app import main; code = main(sys.argv[1:]); "
    "print(json.dumps({'code': code, 'runtime': 'onnxruntime' in sys.modules}))"
)


def ingest(folder: Path, data: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("AUTAN_")}
    env |= {"AUTAN_DATA_DIR": str(data), "AUTAN_RETRIEVAL__EMBEDDER": "minilm"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "ingest", str(folder), "--json"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    return {**json.loads(lines[0]), **json.loads(lines[-1])}


def test_only_an_ingest_with_new_text_loads_minilm(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("# A\n\nQuokkas live on Rottnest island.\n", encoding="utf-8")
    first = ingest(notes, tmp_path / "data")
    assert (first["code"], first["chunks_embedded"], first["runtime"]) == (0, 1, True)
    again = ingest(notes, tmp_path / "data")
    assert (again["code"], again["files_unchanged"], again["runtime"]) == (0, 1, False)
    (notes / "b.md").write_text("# B\n\nBilbies dig burrows.\n", encoding="utf-8")
    more = ingest(notes, tmp_path / "data")
    assert (more["code"], more["chunks_embedded"], more["runtime"]) == (0, 1, True)


def test_a_lazy_embedder_loads_once_and_checks_what_it_loaded() -> None:
    loads: list[int] = []

    def load() -> HashingEmbedder:
        loads.append(1)
        return HashingEmbedder(64)

    lazy = LazyEmbedder("hashing-64", 64, load)
    assert (lazy.name, lazy.dim, loads) == ("hashing-64", 64, [])
    assert lazy.embed_query("quokka") == HashingEmbedder(64).embed_query("quokka")
    lazy.embed(["a", "b"])
    assert loads == [1]
    with pytest.raises(ConfigError, match="does not make the vectors"):
        LazyEmbedder("hashing-32", 32, load).embed(["x"])


def test_only_a_followed_minilm_is_lazy() -> None:
    assert isinstance(embedder_for("minilm", "all-MiniLM-L6-v2", None, lambda: 384), LazyEmbedder)
    assert not isinstance(embedder_for("hashing:64", "hashing-64", None, lambda: 64), LazyEmbedder)

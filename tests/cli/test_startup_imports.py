"""What the quick paths of ``ask``, ``ingest`` and ``guard check`` load: no torch, transformers,
qdrant_client or langgraph. Each runs the real CLI in a fresh interpreter and reads sys.modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "transformers", "qdrant_client", "langgraph")
PROBE = (
    "import json, sys; from autan.cli.app import main; code = main(sys.argv[1:]); "
    f"print(json.dumps({{'code': code, 'heavy': [m for m in {HEAVY!r} if m in sys.modules]}}))"
)


def run(args: list[str], tmp_path: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("AUTAN_")}
    env |= {"AUTAN_DATA_DIR": str(tmp_path / "data"), "AUTAN_RETRIEVAL__EMBEDDER": "hashing"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, cwd=tmp_path, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    last: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return last


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text("# A\n\nQuokkas live on Rottnest island.\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["ask", " "], 2),  # nothing to ask: refused before any model or graph loads
        (["guard", "check", "--stage", "input", "--text", "hello"], 0),
        (["guard", "check", "--stage", "output", "--text", "hello"], 0),
        (["ingest", "no/such/folder"], 2),
        (["search", " "], 2),
    ],
)
def test_quick_paths_load_no_heavy_library(args: list[str], code: int, tmp_path: Path) -> None:
    assert run(args, tmp_path) == {"code": code, "heavy": []}


def test_an_unchanged_ingest_loads_no_heavy_library(notes: Path, tmp_path: Path) -> None:
    assert run(["ingest", str(notes), "-q"], tmp_path) == {"code": 0, "heavy": []}
    assert run(["ingest", str(notes), "-q"], tmp_path) == {"code": 0, "heavy": []}

"""Fixtures shared by every test: offline, isolated settings, no user config leaking in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# No test may reach a model hub: weights come from packages or are built in the test.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of exported embedders for the whole run (an export takes seconds)."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, model_cache: Path
) -> Iterator[None]:
    """Each test gets its own data dir and no AUTAN_* settings from the developer's shell."""
    for key in list(os.environ):
        if key.startswith("AUTAN_") and key != "AUTAN_QDRANT_URL":
            monkeypatch.delenv(key, raising=False)
    home = tmp_path_factory.mktemp("autan-data")
    monkeypatch.setenv("AUTAN_DATA_DIR", str(home))
    (home / "autan.toml").write_text("")  # AUTAN_CONFIG must name a file that exists
    monkeypatch.setenv("AUTAN_CONFIG", str(home / "autan.toml"))
    monkeypatch.setenv("AUTAN_RETRIEVAL__MODEL_CACHE", str(model_cache))
    yield


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace directory."""
    ws = tmp_path / "workspace"
    ws.mkdir()
    return ws


@pytest.fixture
def settings(workspace: Path):  # type: ignore[no-untyped-def]
    """Settings pointing at the test's own data dir and workspace."""
    from autan.config import load_settings

    return load_settings(workspace=workspace)

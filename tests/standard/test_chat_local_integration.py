"""LangChain's standard integration suite against a real small model: SmolLM2-135M, constrained.

Replies are short (``max_tokens``) so the suite stays bounded on a CPU; expected failures name
the limit of a 135M-parameter model behind them, never a missing feature of autan.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import ChatModelIntegrationTests

from autan.agents.models.mistral_local import LocalChatModel
from tests.support.smollm2 import smollm2_dir_fixture  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow

_WEIGHTS: dict[str, Path] = {}


@pytest.fixture(scope="module", autouse=True)
def _weights(smollm2_dir: Path) -> Iterator[None]:
    _WEIGHTS["smollm2"] = smollm2_dir
    before = torch.get_num_threads()
    torch.set_num_threads(min(2, before))
    yield
    torch.set_num_threads(before)


class TestLocalSmolLM2Integration(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return LocalChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        weights = str(_WEIGHTS["smollm2"])
        return {"model": weights, "constrained": True, "max_tokens": 24, "timeout": None}

    @property
    def supports_model_override(self) -> bool:
        return False  # one instance serves one set of loaded weights

    @property
    def has_tool_choice(self) -> bool:
        return True

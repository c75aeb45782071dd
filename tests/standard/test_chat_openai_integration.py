"""LangChain's standard integration suite for the ``openai:`` backend against a real server.

The server is ``autan serve`` in its own process with SmolLM2-135M (``local:``) as the planner:
a real OpenAI-compatible endpoint, not a canned one. ``make test`` runs the CORE tests (one short
generation each); ``AUTAN_STANDARD_FULL=1`` runs the rest (17 pass, 33 skip, none fail). What the
served endpoint does not offer (client tools, structured output, JSON mode, a second model,
non-text inputs) is switched off through the suite's own flags, with the reason below.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import ChatModelIntegrationTests

from autan.agents.models.openai_compat import OpenAICompatChatModel
from tests.server.live import LIGHT_POLICY, ServeProcess
from tests.support.budget import CORE as BASE_CORE
from tests.support.budget import within_budget
from tests.support.smollm2 import smollm2_dir_fixture  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow

_SERVER: dict[str, str] = {}
CORE = BASE_CORE | {
    "test_conversation",
}
AGENT_ENDPOINT = (
    "autan serve's chat endpoint is the guarded agent, which runs its own tools; tools and "
    "output schemas declared by the client are not forwarded to the planner"
)


@pytest.fixture(scope="module", autouse=True)
def _served(smollm2_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    where = tmp_path_factory.mktemp("openai-served")
    policy = where / "policy.yaml"
    policy.write_text(LIGHT_POLICY, encoding="utf-8")
    env = {
        "AUTAN_DATA_DIR": str(where / "data"),
        "AUTAN_GUARDS__POLICY": str(policy),
        "AUTAN_RETRIEVAL__EMBEDDER": "hashing",
        "AUTAN_MEMORY__AUTO_RECALL": "false",
        "AUTAN_PLANNER__MAX_NEW_TOKENS": "24",
        "OMP_NUM_THREADS": "2",
    }
    server = ServeProcess(env, ["--model", f"local:{smollm2_dir}"], where)
    try:
        server.wait_ready(300)
        _SERVER["url"] = server.url
        yield
    finally:
        server.stop()


class TestOpenAIBackendAgainstAutanServe(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return OpenAICompatChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "autan", "base_url": f"{_SERVER['url']}/v1", "timeout": 300}

    @pytest.fixture(autouse=True)
    def _bounded(self, request: pytest.FixtureRequest) -> None:
        within_budget(request, CORE)

    @property
    def has_tool_calling(self) -> bool:
        return False  # AGENT_ENDPOINT

    @property
    def has_structured_output(self) -> bool:
        return False  # AGENT_ENDPOINT

    @property
    def supports_json_mode(self) -> bool:
        return False  # AGENT_ENDPOINT

    @property
    def returns_usage_metadata(self) -> bool:
        return True

"""Contract case for ``openai:``, against a real loopback server."""

from __future__ import annotations

import atexit
from collections.abc import Sequence
from typing import Any

from langchain_core.tools import BaseTool

from autan.agents.models.openai_compat import OpenAICompatChatModel
from tests.contracts.cases import ChatModelCase
from tests.support.openai_server import FakeOpenAIServer, start

_server: list[FakeOpenAIServer] = []


def _url() -> str:
    if not _server:
        server, stop = start()
        atexit.register(stop)
        _server.append(server)
    return _server[0].url


def _make() -> OpenAICompatChatModel:
    return OpenAICompatChatModel(base_url=_url(), model="contract", max_retries=0)


def _caller(tools: Sequence[BaseTool]) -> Any:
    return _make().bind_tools(tools, tool_choice="any")


CASES = [ChatModelCase("openai", _make, _caller)]

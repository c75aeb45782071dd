"""LangChain's standard unit suite (``ChatModelUnitTests``) for every autan chat model."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.unit_tests import ChatModelUnitTests

from autan.agents.models.mistral_local import LocalChatModel
from autan.agents.models.openai_compat import OpenAICompatChatModel
from autan.agents.models.scripted import FunctionChatModel, ScriptedChatModel
from autan.agents.models.standard import STANDARD_NAMES
from autan.agents.models.tiny import tiny_mistral_dir
from autan.errors import UserInputError


def _echo(messages: list[Any], tools: list[dict[str, Any]]) -> str:
    return "hello"


class TestScriptedUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ScriptedChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"script": {"turns": [{"text": "hello"}]}}


class TestFunctionUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return FunctionChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"func": _echo}


class TestLocalUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return LocalChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": str(tiny_mistral_dir())}


class TestOpenAICompatUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return OpenAICompatChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "mistral", "base_url": "http://127.0.0.1:9/v1"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return {"OPENAI_API_KEY": "sk-env"}, self.chat_model_params, {"api_key": "sk-env"}


CASES: list[tuple[type[BaseChatModel], dict[str, Any]]] = [
    (ScriptedChatModel, {"script": {"turns": [{"text": "hello"}]}}),
    (FunctionChatModel, {"func": _echo}),
    (OpenAICompatChatModel, {"model": "mistral", "base_url": "http://127.0.0.1:9/v1"}),
]


@pytest.mark.parametrize(("cls", "params"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_every_standard_name_is_accepted(cls: type[BaseChatModel], params: dict[str, Any]) -> None:
    values = {"model": "m", "temperature": 0.5, "max_tokens": 7, "timeout": 5.0}
    values |= {"max_retries": 1, "stop": ["END"], "streaming": True, "api_key": "k"}
    values |= {"base_url": "http://127.0.0.1:9/v1"}
    assert set(values) == set(STANDARD_NAMES)
    model = cls(**{**values, **params})
    assert model.stop == ["END"] and model.streaming is True  # type: ignore[attr-defined]
    assert model._get_ls_params()["ls_stop"] == ["END"]


def test_openai_timeout_and_max_tokens_are_kept_not_dropped() -> None:
    model = OpenAICompatChatModel(
        model="m", base_url="http://127.0.0.1:9/v1", timeout=5, max_tokens=9, api_key="k"
    )
    assert model.timeout_s == 5.0 and model.max_tokens == 9 and model.api_key == "k"
    params = model._get_ls_params()
    assert params["ls_model_name"] == "m" and params["ls_provider"] == "openai"
    assert params["ls_max_tokens"] == 9


def test_local_maps_standard_names_onto_its_fields() -> None:
    model = LocalChatModel(model=str(tiny_mistral_dir()), max_tokens=11, timeout=3, stop=["x"])
    assert (model.max_new_tokens, model.timeout_s, model.stop) == (11, 3.0, ["x"])
    assert model._get_ls_params()["ls_max_tokens"] == 11


@pytest.mark.parametrize(("cls", "params"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_unknown_names_are_refused_with_the_names_that_work(
    cls: type[BaseChatModel], params: dict[str, Any]
) -> None:
    with pytest.raises(UserInputError, match="no parameter 'timout'") as caught:
        cls(**params, timout=5)
    assert "timeout" in str(caught.value.hint)


def test_a_standard_name_and_its_field_together_are_refused() -> None:
    with pytest.raises(UserInputError, match="both 'timeout' and 'timeout_s'"):
        OpenAICompatChatModel(model="m", base_url="http://127.0.0.1:9/v1", timeout=1, timeout_s=2)

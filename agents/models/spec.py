"""One string selects the chat model.

``scripted:<file>``, ``local:<hf-id-or-path>`` or ``openai:<base-url>#<model>``.
"""

from __future__ import annotations

import importlib
from typing import Any

from langchain_core.language_models import BaseChatModel

from autan.config import Settings
from autan.errors import ConfigError, UserInputError

KINDS = ("scripted", "local", "openai")
EXAMPLES = (
    "scripted:builtin, local:mistralai/Mistral-7B-Instruct-v0.3, "
    "openai:http://127.0.0.1:11434/v1#mistral"
)


def parse_spec(spec: str) -> tuple[str, str]:
    """Split a model spec into kind and target; a clear error for anything else."""
    kind, sep, target = spec.partition(":")
    if not sep or kind not in KINDS or not target.strip():
        raise UserInputError(f"unknown model spec {spec!r}", hint=f"use one of: {EXAMPLES}")
    return kind, target.strip()


def _optional(module: str, attr: str, what: str) -> Any:
    try:
        return getattr(importlib.import_module(module), attr)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            raise ConfigError(
                f"the {what} chat model is not available in this build of autan",
                hint="use scripted:<file> or openai:<base-url>#<model>",
            ) from None
        raise


def load_model(spec: str, settings: Settings | None = None) -> BaseChatModel:
    """The chat model a spec names, configured by ``settings``."""
    settings = settings or Settings()
    kind, target = parse_spec(spec)
    if kind == "scripted":
        from autan.agents.models.scripted import ScriptedChatModel

        scripted: BaseChatModel = ScriptedChatModel.from_source(target)
        return scripted
    if kind == "openai":
        base_url, sep, model = target.partition("#")
        if not sep or not model:
            raise UserInputError(
                f"openai model spec {spec!r} names no model",
                hint="write openai:<base-url>#<model>, e.g. openai:http://127.0.0.1:11434/v1#mistral",
            )
        cls = _optional("autan.agents.models.openai_compat", "OpenAICompatChatModel", "openai")
        return cls.from_settings(base_url, model, settings)  # type: ignore[no-any-return]
    cls = _optional("autan.agents.models.mistral_local", "LocalChatModel", "local")
    return cls.from_settings(target, settings)  # type: ignore[no-any-return]

"""LangChain's standard constructor names and tracing parameters, shared by every autan model.

LangChain code builds chat models as ``Model(model=..., temperature=..., max_tokens=...,
timeout=..., max_retries=..., stop=..., streaming=..., api_key=..., base_url=...)``. Each autan
model maps those names onto its own fields (``standard_names``), lists the ones it accepts but
has no use for (``unused_standard``: a scripted model has no sampling and no server), and
refuses any other unknown name with a ``UserInputError`` instead of silently dropping it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.base import LangSmithParams
from pydantic import model_validator

from autan.errors import UserInputError

STANDARD_NAMES = (
    "model",
    "temperature",
    "max_tokens",
    "timeout",
    "max_retries",
    "stop",
    "streaming",
    "api_key",
    "base_url",
)


class StandardParamsModel(BaseChatModel):
    """A chat model that accepts LangChain's standard names and reports them for tracing."""

    stop: list[str] | None = None
    """Stop sequences applied to every call (a per-call ``stop`` replaces them)."""
    streaming: bool = False
    """When true, ``invoke`` streams internally (LangChain's ``streaming`` flag)."""

    standard_names: ClassVar[dict[str, str]] = {}
    unused_standard: ClassVar[frozenset[str]] = frozenset()
    ls_provider: ClassVar[str] = "autan"

    @model_validator(mode="before")
    @classmethod
    def _standard_names(cls, data: Any) -> Any:
        """Rename standard names to this model's fields; refuse names it does not know."""
        if not isinstance(data, dict):
            return data
        known = set(cls.model_fields) | {
            f.alias for f in cls.model_fields.values() if f.alias is not None
        }
        renamed: dict[str, Any] = {}
        for key, value in data.items():
            if key in cls.unused_standard:
                continue
            target = cls.standard_names.get(key, key)
            if target not in known:
                raise _unknown(cls, key, known)
            if target in renamed:
                standard = key if key != target else _standard_for(cls, target)
                raise UserInputError(
                    f"{cls.__name__} got both {standard!r} and {target!r}",
                    hint=f"pass only {standard!r}",
                )
            renamed[target] = value
        return cls._complete(renamed)

    @classmethod
    def _complete(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Hook for models that derive fields from others (e.g. load weights for ``model``)."""
        return data

    def _field(self, standard: str) -> Any:
        return getattr(self, self.standard_names.get(standard, standard), None)

    def model_label(self) -> str:
        """The model name reported to tracing and in ``response_metadata``."""
        value = self._field("model")
        return str(value) if value else self._llm_type

    def stops(self, stop: list[str] | None) -> list[str] | None:
        """The stop sequences of one call: its own, else the model's."""
        return stop if stop is not None else self.stop

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(ls_provider=self.ls_provider, ls_model_type="chat")
        override = kwargs.get("model")
        params["ls_model_name"] = override if isinstance(override, str) else self.model_label()
        temperature = kwargs.get("temperature", self._field("temperature"))
        if isinstance(temperature, int | float):
            params["ls_temperature"] = float(temperature)
        max_tokens = kwargs.get("max_tokens", self._field("max_tokens"))
        if isinstance(max_tokens, int):
            params["ls_max_tokens"] = max_tokens
        stops = self.stops(stop)
        if stops:
            params["ls_stop"] = stops
        return params


def _standard_for(cls: type[StandardParamsModel], field: str) -> str:
    return next((k for k, v in cls.standard_names.items() if v == field), field)


def _unknown(cls: type[BaseChatModel], key: str, known: set[str]) -> UserInputError:
    own = sorted(k for k in known if k not in BaseChatModel.model_fields)
    accepted = list(STANDARD_NAMES) + [k for k in own if k not in STANDARD_NAMES]
    return UserInputError(
        f"{cls.__name__} has no parameter {key!r}",
        hint="use one of: " + ", ".join(accepted) + " (or LangChain's callbacks, tags, metadata)",
    )

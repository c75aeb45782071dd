"""Chat-model cases held to the one contract suite (test_chat_model_contract.py).

Each backend contributes ``CASES`` in its own module ``tests/contracts/cases_<backend>.py``;
``all_cases()`` gathers them so adding a backend never edits the suite.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool


@dataclass(frozen=True)
class ChatModelCase:
    """How to make one backend's model for the contract suite.

    ``make()`` returns a fresh model that answers the prompt "Say hello." with some text.
    ``make_tool_caller(tools)`` returns a model *bound to* ``tools`` that is guaranteed to
    answer "Use a tool." with at least one call to one of them (scripted, or forced, e.g.
    ``tool_choice="any"`` with constrained decoding); the args need not be meaningful but must
    validate against the tool's schema.
    ``deterministic`` says invoke() and stream() give the same output for the same input.
    """

    id: str
    make: Callable[[], BaseChatModel]
    make_tool_caller: Callable[[Sequence[BaseTool]], Any]
    deterministic: bool = True
    supports_stop: bool = True


def all_cases() -> list[ChatModelCase]:
    """Every ``CASES`` list from the ``cases_*.py`` modules beside this one."""
    found: list[ChatModelCase] = []
    here = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda i: i.name):
        if info.name.startswith("cases_"):
            module = importlib.import_module(f"tests.contracts.{info.name}")
            found.extend(module.CASES)
    return found

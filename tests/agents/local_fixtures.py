"""Fixtures shared by the tests of the local: model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """A 2-layer model is all overhead: one thread avoids thread-pool contention on shared CPUs."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def counted_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The row count of every batched generation from now on."""
    from autan.agents.models import local_batch

    calls: list[int] = []
    decode = local_batch.greedy_rows

    def counted(model: Any, ids: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(ids.shape[0])
        return decode(model, ids, *args, **kwargs)

    monkeypatch.setattr(local_batch, "greedy_rows", counted)
    return calls


def tiny_constrained_call(settings: Any, bonus: float, tool: Any) -> Any:
    """The tiny random model, constrained with ``copy_bias`` ``bonus``, forced to call ``tool``."""
    from autan.agents.models.mistral_local import LocalChatModel
    from autan.agents.models.spec import load_model
    from autan.agents.models.tiny import tiny_mistral_dir

    settings.model.constrained = True
    settings.model.copy_bias = bonus
    settings.model.max_new_tokens = 120
    model = load_model(f"local:{tiny_mistral_dir()}", settings)
    assert isinstance(model, LocalChatModel)
    return model.bind_tools([tool], tool_choice="any")

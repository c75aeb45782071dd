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

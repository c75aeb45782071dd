"""Ends a prefilled call's generation as soon as the call's JSON closes.

A forced call without a grammar starts from a prefill (``tool_prompt.call_opener``); once the
model closes that object nothing after it can change the call, so decoding stops there rather
than running on to the token limit.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import StoppingCriteria

from autan.agents.models.call_parsing import value_closed


class CallClosed(StoppingCriteria):
    """True once the reply from ``start`` (where the prefill begins) is a closed JSON value."""

    def __init__(self, fmt: Any, start: int) -> None:
        self.format = fmt
        self.start = start

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **_: Any) -> Any:
        """True (per batch row) when the prefilled call has closed."""
        text = self.format.decode([int(t) for t in input_ids[0, self.start :]])
        done = value_closed(text)
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

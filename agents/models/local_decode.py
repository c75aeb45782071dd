"""Greedy decoding of a left-padded batch that drops each row from the batch once it ends.

``generate`` runs every row until the last one ends, so one reply that runs to the token limit
(a call that never closes, a long paragraph) makes the whole batch pay full-width steps to the
end. Here a finished row leaves the key/value cache and the next step runs on the rows still
going. Each row keeps its own logits processors (its grammar) and stopping criteria, which see
the row as ``generate`` shows it: the padded prompt and the tokens so far.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Sequence
from typing import Any

import torch


def _step(
    model: Any, ids: torch.Tensor, mask: torch.Tensor, pos: torch.Tensor, cache: dict[str, Any]
) -> Any:
    """The next-token logits of each row (only the last position's are computed).

    ``cache`` maps the forward's cache argument name (``_cache_argument``) to the cache.
    """
    out = model(
        input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, logits_to_keep=1,
        **cache,
    )  # fmt: skip
    return out.logits[:, -1, :].float()


def _cache_argument(model: Any) -> str:
    """``cache`` in newer transformers, ``past_key_values`` before (the old name warns now)."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _next(
    logits: torch.Tensor, rows: torch.Tensor, alive: list[int], procs: Sequence[Sequence[Any]]
) -> torch.Tensor:
    """The greedy token of each running row, its scores masked by its own processors."""
    for j, i in enumerate(alive):
        row = logits[j : j + 1]
        for proc in procs[i]:
            row = proc(rows[i : i + 1], row)
        logits[j] = row[0]
    return logits.argmax(-1)


def greedy_rows(
    model: Any,
    ids: torch.Tensor,
    mask: torch.Tensor,
    *,
    procs: Sequence[Sequence[Any]],
    ended: Any,
    max_new_tokens: int,
    suppress: Sequence[int] = (),
    max_time: float | None = None,
) -> torch.Tensor:
    """The batch's rows with their new tokens (a finished row is padded with its last token).

    ``ended(rows, scores)`` marks the rows that end with the newest token, as the ``_Rows``
    stopping criteria do, and returns a boolean per row.
    """
    from transformers import DynamicCache

    start, kv = time.monotonic(), DynamicCache()
    cache = {_cache_argument(model): kv}  # looked up once, not at every step
    pos = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 1)  # as generate places them
    logits = _step(model, ids, mask, pos, cache)
    rows, alive, last = ids, list(range(ids.shape[0])), pos[:, -1:]
    for step in range(max_new_tokens):
        if suppress:
            logits[:, list(suppress)] = float("-inf")
        chosen = _next(logits, rows, alive, procs)
        new = rows[:, -1].clone()
        new[alive] = chosen
        rows = torch.cat([rows, new[:, None]], dim=1)
        done = ended(rows, logits)
        keep = [j for j, i in enumerate(alive) if not bool(done[i])]
        late = max_time is not None and time.monotonic() - start > max_time
        if not keep or late or step == max_new_tokens - 1:
            break
        if len(keep) < len(alive):
            index = torch.tensor(keep, device=rows.device)
            kv.batch_select_indices(index)
            mask, last, chosen = mask[index], last[index], chosen[index]
            alive = [alive[j] for j in keep]
        mask = torch.cat([mask, mask.new_ones(len(alive), 1)], dim=1)
        last = last + 1
        logits = _step(model, chosen[:, None], mask, last, cache)
    return rows


__all__ = ["greedy_rows"]

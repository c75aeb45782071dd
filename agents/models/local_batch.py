"""Several grammar-free replies of the local model in one generation.

A small model's decode step costs about the same for eight rows as for one (it is bound by
reading the weights, not by arithmetic), so conversations decoded together take a fraction of
the time each would alone. Prompts are left-padded; every row keeps its own stop sequences and
stops at its own complete call, and is read exactly as a single reply is. Rows computed in a
batch can differ from a lone run in the last bits of a logit, so a greedy reply may take another
word where two were tied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from langchain_core.messages import AIMessage, BaseMessage
from transformers import StoppingCriteria

from autan.agents.models.local_stopping import CallEnd, TextStop
from autan.errors import AutanError, BackendError


class _Rows(StoppingCriteria):
    """Each row's own stopping criteria, applied to that row only."""

    def __init__(self, rows: list[list[Any]], width: int) -> None:
        self.rows = rows
        self.width = width
        self.ended: list[int | None] = [None] * len(rows)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **_: Any) -> Any:
        """True for each row one of its criteria stops (and where it first did)."""
        for i, crit in enumerate(self.rows):
            if self.ended[i] is None and any(
                bool(c(input_ids[i : i + 1], scores)[0]) for c in crit
            ):
                self.ended[i] = int(input_ids.shape[1]) - self.width
        done = [e is not None for e in self.ended]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def _batchable(plans: Sequence[Any]) -> bool:
    """Plans one generation can serve: no grammar, no prefilled token, the same sampling."""
    if len(plans) < 2:
        return False
    first = {k: v for k, v in plans[0].kwargs.items() if k != "logits_processor"}
    return not first.get("do_sample") and all(
        not p.grammar
        and not p.prefill
        and not p.kwargs.get("logits_processor")
        and {k: v for k, v in p.kwargs.items() if k != "logits_processor"} == first
        for p in plans
    )


def _criteria(model: Any, plan: Any, width: int) -> list[Any]:
    fmt = model.runtime.format
    crit: list[Any] = [TextStop(fmt, width, plan.stops)] if plan.stops else []
    if plan.tools and not fmt.native_tools:
        crit.append(CallEnd(fmt, width, lambda text: model._reads(plan, text)))
    return crit


def _generate(model: Any, plans: Sequence[Any]) -> list[list[int]]:
    """New token ids per plan, from one left-padded generation (each cut after its end)."""
    rt, fmt = model.runtime, model.runtime.format
    width = max(len(p.prompt) for p in plans)
    pad = fmt.eos_ids[0]
    ids = torch.tensor([[pad] * (width - len(p.prompt)) + p.prompt for p in plans])
    mask = torch.tensor([[0] * (width - len(p.prompt)) + [1] * len(p.prompt) for p in plans])
    kwargs = {k: v for k, v in plans[0].kwargs.items() if k != "logits_processor"}
    stops = _Rows([_criteria(model, p, width) for p in plans], width)
    with rt.lock, torch.inference_mode():
        try:
            out = rt.model.generate(
                input_ids=ids.to(rt.model.device),
                attention_mask=mask.to(rt.model.device),
                stopping_criteria=[stops],
                **kwargs,
            )
        except (RuntimeError, ValueError) as exc:
            raise BackendError(f"local generation failed: {exc}") from exc
    rows = []
    for i, stopped in enumerate(stops.ended):
        new = [int(t) for t in out[i, width:]]
        end = next((j + 1 for j, t in enumerate(new) if t in fmt.eos_ids), len(new))
        rows.append(new[: min(end, stopped or len(new))])
    return rows


def replies(
    model: Any, requests: Sequence[tuple[list[BaseMessage], dict[str, Any]]]
) -> list[AIMessage | AutanError]:
    """Replies to several conversations, each with its bound ``kwargs`` (tools, tool choice).

    Grammar-free plans with the same sampling settings run as one batch; anything else runs
    one by one. A conversation the model refuses gives its error in place of a reply.
    """
    plans: list[Any] = []
    for messages, kwargs in requests:
        try:
            plans.append(model._plan(messages, None, dict(kwargs)))
        except AutanError as exc:
            plans.append(exc)
    ready = [p for p in plans if not isinstance(p, AutanError)]
    if not _batchable(ready):
        return [p if isinstance(p, AutanError) else _one(model, p) for p in plans]
    rows = iter(_generate(model, ready))
    out: list[AIMessage | AutanError] = []
    for p in plans:
        out.append(p if isinstance(p, AutanError) else _read(model, p, next(rows)))
    return out


def _one(model: Any, plan: Any) -> AIMessage | AutanError:
    try:
        return _read(model, plan, model._run(plan))
    except AutanError as exc:
        return exc


def _read(model: Any, plan: Any, ids: list[int]) -> AIMessage | AutanError:
    try:
        return model.reply(plan, ids)  # type: ignore[no-any-return]
    except AutanError as exc:
        return exc

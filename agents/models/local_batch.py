"""Several replies of the local model in one generation, grammar-constrained or free.

A small model's decode step costs about the same for eight rows as for one (it is bound by
reading the weights, not by arithmetic), so conversations decoded together take a fraction of
the time each would alone. Prompts are left-padded (a forced call's prefilled opening stays at
the end of its row's prompt); every row keeps its own stop sequences, its own grammar (one
llguidance matcher per row, fed only that row's tokens) and stops at its own complete call, and
is read exactly as a single reply is. Rows computed in a batch can differ from a lone run in the
last bits of a logit, so a greedy reply may take another word where two were tied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from langchain_core.messages import AIMessage, BaseMessage
from transformers import StoppingCriteria

from autan.agents.models.local_decode import greedy_rows
from autan.agents.models.local_stopping import Decoding, reply_stops
from autan.errors import AutanError, BackendError


class _Rows(StoppingCriteria):
    """Each row's own stopping criteria, applied to that row only."""

    def __init__(self, rows: list[list[Any]], width: int, eos_ids: Sequence[int]) -> None:
        self.rows = rows
        self.width = width
        self.eos_ids = set(eos_ids)
        self.ended: list[int | None] = [None] * len(rows)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **_: Any) -> Any:
        """True for each row one of its criteria stops or that wrote an end (and where)."""
        for i, crit in enumerate(self.rows):
            if self.ended[i] is None and (
                int(input_ids[i, -1]) in self.eos_ids
                or any(bool(c(input_ids[i : i + 1], scores)[0]) for c in crit)
            ):
                self.ended[i] = int(input_ids.shape[1]) - self.width
        done = [e is not None for e in self.ended]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


class _Prose(StoppingCriteria):
    """Stops a grammar row once it streams text: such a reply can no longer call a tool."""

    def __init__(self, fmt: Any, start: int, stops: Sequence[str]) -> None:
        self.decoding = Decoding(fmt, stops, guard_json=True)
        self.start = start
        self.seen = start

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **_: Any) -> Any:
        """True once the row's streamed text has something other than whitespace."""
        text = ""
        for token in input_ids[0, self.seen :].tolist():
            text += self.decoding.push(int(token))
        self.seen = int(input_ids.shape[1])
        return torch.full((input_ids.shape[0],), bool(text.strip()), dtype=torch.bool)


def _batchable(model: Any, plans: Sequence[Any]) -> bool:
    """Plans one generation can serve: greedy, the same sampling settings.

    A model with a call token opens its calls with that token, which a lone run reads; its
    grammar and prefilled rows run alone.
    """
    if len(plans) < 2:
        return False
    first = _shared(plans[0])
    native = model.runtime.format.tool_call_token is not None
    return not first.get("do_sample") and all(
        _shared(p) == first and not (native and (p.grammar or p.prefill)) for p in plans
    )


def _shared(plan: Any) -> dict[str, Any]:
    return {k: v for k, v in plan.kwargs.items() if k != "logits_processor"}


def _criteria(model: Any, plan: Any, width: int, stop_at_prose: bool) -> list[Any]:
    """The stops ``LocalChatModel._run`` gives a lone reply, for a row of ``width`` prompt."""
    crit = reply_stops(model, plan, width)
    if plan.grammar and stop_at_prose:
        crit.append(_Prose(model.runtime.format, width, plan.stops))
    return crit


def _generate(model: Any, plans: Sequence[Any], stop_at_prose: bool) -> list[list[int]]:
    """Each plan's ids (prefill, then new ones cut at its end) from one left-padded generation."""
    rt, fmt = model.runtime, model.runtime.format
    width = max(len(p.prompt) for p in plans)
    pad = fmt.eos_ids[0]
    ids = torch.tensor([[pad] * (width - len(p.prompt)) + p.prompt for p in plans])
    mask = torch.tensor([[0] * (width - len(p.prompt)) + [1] * len(p.prompt) for p in plans])
    stops = _Rows([_criteria(model, p, width, stop_at_prose) for p in plans], width, fmt.eos_ids)
    grammar = [list(p.kwargs.get("logits_processor") or []) for p in plans]
    shared = _shared(plans[0])
    with rt.lock, torch.inference_mode():
        try:
            out = greedy_rows(
                rt.model, ids.to(rt.model.device), mask.to(rt.model.device),
                procs=grammar, ended=stops, max_new_tokens=shared["max_new_tokens"],
                suppress=shared.get("suppress_tokens", ()), max_time=shared.get("max_time"),
            )  # fmt: skip
        except (RuntimeError, ValueError) as exc:
            raise BackendError(f"local generation failed: {exc}") from exc
    rows = []
    for i, stopped in enumerate(stops.ended):
        new = [int(t) for t in out[i, width:]]
        rows.append(plans[i].prefill + new[: stopped or len(new)])
    return rows


def replies(
    model: Any,
    requests: Sequence[tuple[list[BaseMessage], dict[str, Any]]],
    *,
    stop_at_prose: bool = False,
) -> list[AIMessage | AutanError]:
    """Replies to several conversations, each with its bound ``kwargs`` (tools, tool choice).

    Greedy plans with the same sampling settings run as one batch; anything else runs one by
    one. ``stop_at_prose`` ends a grammar row at its first streamed text (as
    ``tool_eval.run_case`` does). A conversation the model refuses gives its error in place
    of a reply.
    """
    plans: list[Any] = []
    for messages, kwargs in requests:
        try:
            plans.append(model._plan(messages, None, dict(kwargs)))
        except AutanError as exc:
            plans.append(exc)
    ready = [p for p in plans if not isinstance(p, AutanError)]
    if not _batchable(model, ready):
        return [p if isinstance(p, AutanError) else _one(model, p) for p in plans]
    try:
        rows = iter(_generate(model, ready, stop_at_prose))
    except AutanError as exc:
        return [exc for _ in plans]
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

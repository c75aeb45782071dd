"""Stop sequences and streaming for the local model: a token queue and incremental decoding.

The streamed text is always a prefix of the final message's content: the tail that could still
become a stop sequence, an unfinished UTF-8 character, trailing whitespace, and (for models that
write calls as JSON text) anything that starts like a call are held back until they are settled.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from transformers import StoppingCriteria
from transformers.generation.streamers import BaseStreamer

from autan.agents.models.call_parsing import group_end, looks_like_call
from autan.agents.models.call_stop import CallClosed

_END = object()
_FENCE = re.compile(r"```[A-Za-z_]*[ \t]*\n?")
_CALL_START = re.compile(r"[\[{]|[A-Za-z_][\w.]*\(")
_TAG, _TAG_END = "<tool_call>", "</tool_call>"


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """``text`` up to the first stop sequence, and whether one was found."""
    hits = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return (text[: min(hits)], True) if hits else (text, False)


class TextStop(StoppingCriteria):
    """Stops generation once the decoded reply contains a stop sequence."""

    def __init__(self, fmt: Any, prompt_len: int, stops: Sequence[str]) -> None:
        self.format = fmt
        self.prompt_len = prompt_len
        self.stops = [s for s in stops if s]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **_: Any) -> Any:
        """True (per batch row) when a stop sequence has appeared."""
        text = self.format.decode([int(t) for t in input_ids[0, self.prompt_len :]])
        hit = cut_at_stop(text, self.stops)[1]
        return torch.full((input_ids.shape[0],), hit, dtype=torch.bool, device=input_ids.device)


def _moved_on(rest: str, follow: str) -> bool:
    """Whether ``rest`` has begun and cannot be the start of ``follow`` (another call)."""
    return bool(rest) and not follow.startswith(rest[: len(follow)])


def call_complete(text: str) -> bool:
    """True when a reply opens with a tool call that nothing after it can extend.

    A JSON list or Python-syntax call (after an optional code fence) is complete when its
    bracket closes: the readers take the first value. A JSON object is complete once the model
    writes something other than another object (a reply cut at the token limit is read object
    by object); ``<tool_call>`` tags once it writes something other than another tag.
    """
    body = text.lstrip()
    fence = _FENCE.match(body)
    body = body[fence.end() :].lstrip() if fence else body
    if body.startswith(_TAG):
        if body.count(_TAG) != body.count(_TAG_END):
            return False
        return _moved_on(body[body.rfind(_TAG_END) + len(_TAG_END) :].lstrip(), _TAG)
    end = group_end(body) if _CALL_START.match(body) else -1
    if end < 0 or not body.startswith("{"):
        return end > 0
    return _moved_on(body[end:].lstrip(" ,\n"), "{")


class CallEnd(StoppingCriteria):
    """Stops a prompted (grammar-free) reply once it opens with a complete call.

    ``reads`` says whether the reply's reader finds a call in the text; when it does not, the
    reply is left to run (the text may be prose that mentions a call later).
    """

    def __init__(self, fmt: Any, prompt_len: int, reads: Callable[[str], bool]) -> None:
        self.format = fmt
        self.prompt_len = prompt_len
        self.reads = reads
        self.settled = False

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **_: Any) -> Any:
        """True once the reply so far is a complete call."""
        stop = False
        if not self.settled:
            text = self.format.decode([int(t) for t in input_ids[0, self.prompt_len :]])
            if call_complete(text):
                self.settled, stop = True, self.reads(text)
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)


LOOP_SPAN = 48  # a reply whose last 48 tokens repeat ...
LOOP_PERIOD = 16  # ... a run of at most 16 tokens is caught in a loop


def loops(tokens: Sequence[int], span: int = LOOP_SPAN, period: int = LOOP_PERIOD) -> bool:
    """Whether the last ``span`` tokens repeat, shifted by some period of at most ``period``."""
    return any(
        len(tokens) >= span + p and tokens[-span:] == tokens[-span - p : -p]
        for p in range(1, period + 1)
    )


class Loop(StoppingCriteria):
    """Ends a call written without a grammar once it loops (one word part, key or line again).

    A small greedy model that starts repeating itself inside a call never closes it: left
    alone it runs to the token limit and is still no valid call (a long list of one value, 24
    zeros, would also stop here, and be read as the unfinished call it then is). A grammar's
    call is not cut, as its grammar promises a call that validates: it is closed instead
    (``grammar_budget.Closer``).
    """

    def __init__(self, start: int) -> None:
        self.start = start

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **_: Any) -> Any:
        """True for each row whose newest tokens loop."""
        width = int(input_ids.shape[1])
        tail = input_ids[:, max(self.start, width - LOOP_SPAN - LOOP_PERIOD) :].tolist()
        return torch.tensor([loops(t) for t in tail], dtype=torch.bool, device=input_ids.device)


def reply_stops(model: Any, plan: Any, start: int) -> list[Any]:
    """The stopping criteria of one reply whose new tokens begin at ``start``.

    The same for a lone run (``LocalChatModel._run``) and for a row of a batch (local_batch.py),
    where ``start`` is the padded width: a row ends where it would end alone.
    """
    fmt = model.runtime.format
    crit: list[Any] = [TextStop(fmt, start, plan.stops)] if plan.stops else []
    if plan.prefill and fmt.tool_call_token is None:
        crit.append(CallClosed(fmt, start - len(plan.prefill)))
    elif plan.tools and not plan.grammar and not fmt.native_tools:
        crit.append(CallEnd(fmt, start, lambda text: model._reads(plan, text)))
    if plan.tools and not plan.grammar:  # a grammar's call is closed by its Closer
        crit.append(Loop(start))
    return crit


class TokenQueue(BaseStreamer, StoppingCriteria):
    """A transformers streamer that hands new token ids to another thread, in order.

    It is also a stopping criterion: a consumer that stops reading cancels the generation.
    """

    def __init__(self) -> None:
        self._queue: queue.Queue[Any] = queue.Queue()
        self.cancelled = threading.Event()
        self._prompt_seen = False
        self._error: BaseException | None = None

    def put(self, value: Any) -> None:
        """Queue new token ids (the first call carries the prompt, which is skipped)."""
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        for token in value.reshape(-1).tolist():
            self._queue.put(int(token))

    def end(self) -> None:
        """Mark the end of generation."""
        self._queue.put(_END)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **_: Any) -> Any:
        """True once the consumer has cancelled."""
        stop = self.cancelled.is_set()
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)

    def fail(self, error: BaseException) -> None:
        """Record an error for the consumer to raise."""
        self._error = error

    def __iter__(self) -> Iterator[int]:
        """Token ids until generation ends; re-raises a generation error."""
        while (item := self._queue.get()) is not _END:
            yield item
        if self._error is not None:
            raise self._error


class Decoding:
    """Turns a growing list of token ids into safe-to-send text deltas."""

    def __init__(self, fmt: Any, stops: Sequence[str], *, guard_json: bool) -> None:
        self.format = fmt
        self.stops = [s for s in stops if s]
        self.hold = max((len(s) for s in self.stops), default=1) - 1
        self.guard_json = guard_json and not fmt.native_tools
        self.ids: list[int] = []
        self.sent = ""

    def push(self, token: int) -> str:
        """Add one token; the new text that can be sent now (may be empty)."""
        self.ids.append(token)
        if token in self.format.eos_ids:
            return ""
        text_ids, call_ids = self.format.split_call(self.ids)
        if call_ids is not None:
            return ""
        text = cut_at_stop(self.format.decode(text_ids), self.stops)[0].lstrip()
        if not text or (self.guard_json and looks_like_call(text)):
            return ""
        safe = text[: len(text) - self.hold] if self.hold else text
        safe = safe.rstrip().removesuffix("\ufffd")
        if len(safe) <= len(self.sent) or not safe.startswith(self.sent):
            return ""
        piece, self.sent = safe[len(self.sent) :], safe
        return piece

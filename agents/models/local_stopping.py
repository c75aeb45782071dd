"""Stop sequences and streaming for the local model: a token queue and incremental decoding.

The streamed text is always a prefix of the final message's content: the tail that could still
become a stop sequence, an unfinished UTF-8 character, trailing whitespace, and (for models that
write calls as JSON text) anything that starts like a call are held back until they are settled.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from transformers import StoppingCriteria
from transformers.generation.streamers import BaseStreamer

from autan.agents.models.call_parsing import looks_like_call

_END = object()


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

"""Answer tokens reach the user only through the output rails, sentence by sentence.

The planner streams tokens before the ``guard_output`` node has seen the whole answer. Rather
than show unguarded text, tokens are held until a sentence is complete, that sentence passes the
output rails (with the citations retrieved so far, so grounding works), and only then is it
released; a blocked sentence stops the stream, and the final guarded answer is authoritative.
"""

from __future__ import annotations

import re
from typing import Any

from autan.guards.base import GuardRunner

_BOUNDARY = re.compile(r"(?<=[.!?:;])\s+|\n")


class GuardedTokens:
    """Buffers streamed tokens and releases only text the output rails allow."""

    def __init__(self, guards: GuardRunner, run_id: str) -> None:
        self._guards = guards
        self._run_id = run_id
        self._buffer = ""
        self._stopped = False
        self.citations: list[dict[str, Any]] = []
        self.released = ""

    def feed(self, text: str) -> str:
        """Add a token; return the text that may be shown now."""
        if self._stopped:
            return ""
        self._buffer += text
        cut = None
        for match in _BOUNDARY.finditer(self._buffer):
            cut = match.end()
        if cut is None:
            return ""
        ready, self._buffer = self._buffer[:cut], self._buffer[cut:]
        return self._check(ready)

    def would_check(self, text: str | None) -> bool:
        """Whether feeding ``text`` (``None``: flushing) would run the output rails now."""
        if self._stopped:
            return False
        if text is None:
            return bool(self._buffer.strip())
        return _BOUNDARY.search(self._buffer + text) is not None

    def flush(self) -> str:
        """Release what is left of the current step's text; the next step starts clean."""
        rest, self._buffer = self._buffer, ""
        out = self._check(rest) if rest.strip() and not self._stopped else ""
        self._stopped = False
        return out

    def new_step(self) -> None:
        """Forget what the previous planner step streamed."""
        self.released = ""

    def _check(self, text: str) -> str:
        ctx = {"run_id": self._run_id, "citations": self.citations, "partial": True}
        verdict = self._guards.check(text, "output", ctx)
        if verdict.action in ("block", "escalate"):
            self._stopped = True
            return ""
        self.released += verdict.text
        return verdict.text


def same_text(a: str, b: str) -> bool:
    """Equal up to whitespace."""
    return " ".join(a.split()) == " ".join(b.split())

"""At an argument's key, a soft preference, in constrained calls, for the keys the text names.

``shape_bias`` favours going on after an argument when the text names an optional one not yet
written ("assuming equal variance"); the grammar then allows every key left, and a small model
may write another (``"archived": false`` where ``detailed`` was asked for). ``KeyBias`` adds
the same bonus to the tokens that spell a key the text names, by its words or by one of its
choices (``size`` by "small"), before its opening quote and inside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autan.agents.models.call_schema import container_schema
from autan.agents.models.call_text import CallText
from autan.agents.models.copy_bias import add_bonus, prefix_ids
from autan.agents.models.shape_bias import ShapeBias

_OPENERS = (b'"', b' "')


class KeyBias:
    """The tokens that write on towards a key the text names, and the bonus they get."""

    def __init__(self, shape: ShapeBias, table: Mapping[bytes, list[int]], bonus: float) -> None:
        self.shape = shape
        self.table = table
        self.bonus = bonus

    def tokens(self, call: CallText, value: bytes | None) -> list[int]:
        """Ids of the tokens that spell on a named key left, where a key is being written."""
        stack = call.stack
        top = stack[-1] if stack else None
        if top is None or top.kind != "{" or top.key is not None or top.expect_value:
            return []
        schema = container_schema(self.shape.params, stack)
        if schema is None:
            return []
        written = (value or b"") if call.in_string else b""
        keys = [k.encode("utf-8") + b'"' for k in self.shape.named_left(schema, top.keys)]
        rests = [k[len(written) :] for k in keys if k.startswith(written)]
        return prefix_ids(self.table, rests, (b"",) if call.in_string else _OPENERS)

    def apply(self, scores: Any, call: CallText, value: bytes | None) -> None:
        """Add the bonus to those tokens' scores, in place."""
        add_bonus(scores, self.tokens(call, value), self.bonus)

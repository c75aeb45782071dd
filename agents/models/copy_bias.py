"""A soft preference, in constrained calls, for argument values copied from the conversation.

Tool arguments are mostly copied: a place, a name, a unit, an amount the user wrote. A small
model at ``"location": "`` often writes a word of its own instead (``Manchester`` for
"Manhattan", ``km`` when the user asked for miles) or breaks off a copied number (``1000``
for "$10000"). While a constrained call writes a string or a number, ``CopyBias`` adds a small
bonus (``copy_bias``, in logits) to the tokens that copy the conversation's words:

- at the start of a string, tokens that begin one of its words; and before it, a quote alone or
  merged with such a start, where a vocabulary has tokens that merge a quote with more;
- inside a string, tokens that continue the word being copied, up to that word's end (never
  into the next word, so "John Doe" does not run on into "John Doe with a birthday"), with
  ``MID_WORD_WEIGHT`` times the bonus: a word begun and left ("Manchester", "Liverly") is
  never the user's. Where the value so far is already a whole word of the text (``123`` of
  "123 main street, parcel 1234567890"), the plain bonus;
- inside a number, digits that continue a number of the text, unless the digits written are
  already a whole number there (``5`` of "the 5 tallest" is not pushed on to the ``50`` of
  "within 50km").

A string value that would repeat another string value of the same object has the bonus taken
off instead (``discourage``): one phrase of the text feeds one argument.

The same holds for the tool's name and the argument names, among those the grammar allows
(a tool whose name starts with a word of the request gains a little). The grammar's mask comes
first, so only tokens it allows move; the bonus settles near-ties and does not overrule a clear
preference. Bytes are compared, so text in any script works. The source is the user's and the
tools' messages, their newest ``SOURCE_LIMIT`` bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from langchain_core.messages import BaseMessage

WORD_END = frozenset(b" \t\n\".,;:!?()[]{}'`")
MID_WORD_WEIGHT = 3.0  # in bonuses, inside a copied word: "Man" goes on to "hattan"
SPAN = 16  # the longest continuation looked at, in bytes
SOURCE_LIMIT = 32 * 1024  # a long tool output must not make every decoding step slow


def token_table(vocab: Sequence[bytes]) -> dict[bytes, list[int]]:
    """Each token's bytes mapped to the ids that spell them (special tokens given as ``b""``)."""
    table: dict[bytes, list[int]] = {}
    for i, text in enumerate(vocab):
        if text:
            table.setdefault(text, []).append(i)
    return table


def source_text(messages: Iterable[BaseMessage]) -> bytes:
    """The text values may be copied from: the user's and the tools' messages."""
    from autan.agents.models.mistral_format import message_text

    texts = (message_text(m) for m in messages if m.type in ("human", "tool"))
    return "\n".join(t for t in texts if t).encode("utf-8")[-SOURCE_LIMIT:]


class CopyBias:
    """The tokens that copy ``source`` from where a value stands, and the bonus they get."""

    def __init__(self, source: bytes, table: Mapping[bytes, list[int]], bonus: float) -> None:
        self.source = source
        self.table = table
        self.bonus = bonus
        words = {cut for cut in self._cuts(b"", number=False) if cut}
        self._first = self._ids(words)
        quotes = {i for q in (b'"', b' "') for i in table.get(q, ())}
        self._opening = sorted(quotes.union(self._ids(words, openers=(b'"', b' "'))))

    def tokens(self, value: bytes | None, number: bool) -> list[int]:
        """Token ids that copy on from ``value`` (a string's or a number's bytes so far).

        Outside a value (None): a bare opening quote, or one merged with a word's start
        (``"Rey``), rather than a token that opens the string with something else (``";``).
        """
        return self._copying(value, number)[0]

    def _copying(self, value: bytes | None, number: bool) -> tuple[list[int], float]:
        """The copying tokens' ids, and the weight of their bonus.

        ``MID_WORD_WEIGHT`` inside a word of the text the value has begun, unless the value so
        far is a whole word there too.
        """
        if value is None:
            return self._opening, 1.0
        if not value and not number:
            return self._first, 1.0
        cuts = self._cuts(value, number)
        if number and b"" in cuts:
            return [], 1.0  # the digits so far are a whole number of the text
        mid = not number and value[-1] not in WORD_END and b"" not in cuts
        return self._ids({cut for cut in cuts if cut}), MID_WORD_WEIGHT if mid else 1.0

    def _cuts(self, value: bytes, number: bool) -> list[bytes]:
        """How the text goes on wherever it has ``value`` at a word's or a number's start.

        ``b""`` where the word ends there (``123`` of "123 main"). For an empty ``value``, at
        each word's start.
        """
        out = []
        src, start = self.source, 0
        while (at := src.find(value, start) if value else self._next_word(start)) >= 0:
            start = at + 1
            if at > 0 and _alnum(src[at - 1]):
                continue  # copies start at the beginning of a word or number
            out.append(_word(src[at + len(value) : at + len(value) + SPAN], number))
        return out

    def _next_word(self, start: int) -> int:
        src = self.source
        while start < len(src) and (src[start] in WORD_END or (start and _alnum(src[start - 1]))):
            start += 1
        return start if start < len(src) else -1

    def _ids(self, continuations: set[bytes], openers: Sequence[bytes] = (b"",)) -> list[int]:
        return prefix_ids(self.table, continuations, openers)

    def apply(self, scores: Any, value: bytes | None, number: bool) -> None:
        """Add the bonus to the copying tokens' scores, in place (a tensor row of the vocabulary).

        ``value`` is None outside a string or a number.
        """
        ids, weight = self._copying(value, number)
        add_bonus(scores, ids, self.bonus * weight)

    def discourage(self, scores: Any, value: bytes, taken: Sequence[bytes]) -> None:
        """Take the bonus off tokens that would write again a value ``taken`` already.

        One phrase of the text feeds one argument: a small model copies the phrase it has just
        written into the next string too (``"artist": "David", "title": "David"``,
        ``"key": "C#", "scale_type": "C#"``).
        """
        rests = {t[len(value) :] for t in taken if t.startswith(value) and len(t) > len(value)}
        add_bonus(scores, self._ids(rests), -self.bonus)


def add_bonus(scores: Any, ids: Iterable[int], amount: float) -> None:
    """Add ``amount`` to the scores of ``ids`` in a vocabulary's row, in place.

    Ids past the row (a tokenizer's added tokens the model has no logits for) are skipped.
    """
    kept = [i for i in ids if i < scores.shape[-1]]
    if kept and amount:
        scores[..., kept] += amount


def mask_ids(mask: Any, scores: Any) -> list[int]:
    """The ids a token mask holds, within a vocabulary's row of ``scores``."""
    return [int(i) for i in np.flatnonzero(mask[: scores.shape[-1]])]


def prefix_ids(
    table: Mapping[bytes, list[int]], texts: Iterable[bytes], openers: Sequence[bytes] = (b"",)
) -> list[int]:
    """The ids of the tokens that spell a start of one of ``texts``, after one of ``openers``."""
    ids: set[int] = set()
    for text in texts:
        for k in range(1, len(text) + 1):
            for opener in openers:
                ids.update(table.get(opener + text[:k], ()))
    return sorted(ids)


def _alnum(byte: int) -> bool:
    return chr(byte).isalnum() if byte < 128 else True


def _word(rest: bytes, number: bool) -> bytes:
    """The start of ``rest`` a copy may take: digits of a number, or the rest of a word."""
    n = 0
    for byte in rest:
        if (number and not 0x30 <= byte <= 0x39) or (not number and byte in WORD_END):
            break
        n += 1
    return rest[:n]

"""A constrained call's JSON text as it is written: its open containers, keys and string values.

The grammar cursor feeds it each generated character once; the biases read where the call
stands (which tool, which argument, which list) from it instead of re-scanning the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Frame:
    """One open object or array of a call's JSON text, as far as it is written."""

    kind: str  # "{" or "["
    key: str | None = None  # the object's key being written or valued
    keys: list[str] = field(default_factory=list)
    strings: dict[str, str] = field(default_factory=dict)  # the object's string values
    items: list[str] = field(default_factory=list)  # the array's string items
    start: int = 0  # where the array's newest item starts in the text
    expect_value: bool = False  # the object's key and colon are written, its value is not


@dataclass
class CallText:
    """A call's JSON text as it is written, and its open containers, outermost first."""

    text: list[str] = field(default_factory=list)  # byte per character
    stack: list[Frame] = field(default_factory=list)
    in_string: bool = False
    escaped: bool = False
    _buf: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, text: str) -> CallText:
        """The reader after all of ``text``."""
        call = cls()
        call.feed(text)
        return call

    def feed(self, chars: str) -> None:
        """Follow newly written characters."""
        for ch in chars:
            self.text.append(ch)
            if not self.in_string:
                self.in_string, self._buf = ch == '"', []
                if not self.in_string:
                    _structure(self.stack, ch, len(self.text) - 1)
            elif self.escaped:
                self.escaped = False
                self._buf.append(ch)
            elif ch == '"':
                self.in_string = False
                _string_done(self.stack, "".join(self._buf))
            else:
                self.escaped = ch == "\\"
                self._buf.append(ch)

    def siblings(self) -> list[bytes]:
        """While an object's string value is written, the object's other string values."""
        top = self.stack[-1] if self.stack else None
        if top is None or top.kind != "{" or not self.in_string or not top.expect_value:
            return []
        return [v.encode("latin-1") for k, v in top.strings.items() if k != top.key and v]

    def since(self, start: int) -> str:
        """The text from offset ``start`` on."""
        return "".join(self.text[start:])


def _structure(stack: list[Frame], ch: str, i: int) -> None:
    """Follow one byte outside strings at offset ``i``."""
    top = stack[-1] if stack else None
    if ch in "{[":
        if top:
            top.expect_value = False
        stack.append(Frame(ch, start=i + 1))
    elif top is None or ch.isspace():
        return
    elif ch in "}]":
        stack.pop()
    elif ch == ":":
        top.expect_value = True
    elif ch == ",":
        top.key, top.expect_value, top.start = None, False, i + 1
    else:
        top.expect_value = False


def _string_done(stack: list[Frame], value: str) -> None:
    if not stack:
        return
    top = stack[-1]
    if top.kind == "[":
        top.items.append(value)
        return
    if top.expect_value and top.key is not None:
        top.strings[top.key] = value
        top.expect_value = False
    elif top.key is None:
        top.key = value
        top.keys.append(value)

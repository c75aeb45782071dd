"""Tool output as the text a reader sees: structured values unpacked, encoded payloads decoded.

Tool results reach the rail as YAML, JSON or Python reprs: an email body is one quoted value
with escaped newlines beside ids and timestamps, so an instruction inside it is diluted by
keys and cut at the wrong places. ``fields`` returns each string value on its own (unquoted,
unescaped), with cheap line regexes rather than a parser (the fast tier has 2 ms per 2 KB).
``decoded`` and ``decoded_base64`` return what ROT13, reversal or base64 hides in a text when
the decoded form reads as words, so the caller can scan it again.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import re

_YAML_KEY = re.compile(r"^(\s*)(?:-\s+)?([\w.$@-]{1,40}):(?:\s+(.*))?$")
_YAML_ITEM = re.compile(r"^(\s*)-\s+(.*)$")
_JSON_STRING = re.compile(r'"((?:[^"\\\n]|\\.){12,})"')
_ESCAPES = re.compile(r"\\[ntr\"'\\ ]|\\\n[ \t]*")
_ESCAPE_MAP = {
    "\\n": "\n",
    "\\t": " ",
    "\\r": "",
    '\\"': '"',
    "\\'": "'",
    "\\\\": "\\",
    "\\ ": " ",  # YAML's escaped space
}
_TAG = re.compile(r"<(?:br|p|div|li|tr|h\d|/p|/div|/li|/tr|/h\d)\b[^>]*>", re.I)
_ANY_TAG = re.compile(r"<[^>]{1,200}>")
_B64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/=])")
MIN_FIELD = 16


def unescape(text: str) -> str:
    r"""Escapes (``\n``, ``\t``, quotes) as the characters they stand for.

    A backslash at a line end (YAML's line continuation) joins the lines.
    """
    if "\\" not in text:
        return text
    return _ESCAPES.sub(lambda m: _ESCAPE_MAP.get(m.group(0), ""), text)


def _quoted(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        return inner.replace("''", "'") if value[0] == "'" else unescape(inner)
    if value[:1] in "'\"":
        return value[1:].replace("''", "'")
    return value


def _unclosed(parts: list[str]) -> bool:
    """Whether the quoted YAML scalar begun in ``parts`` is still open.

    A line inside it that looks like a key ("TODO: ...") is text of that value.
    """
    first = parts[0].lstrip() if parts else ""
    quote = first[:1]
    if quote not in ("'", '"'):
        return False
    last = parts[-1].rstrip() if len(parts) > 1 else first[1:].rstrip()
    last = last.replace("''", "") if quote == "'" else last.replace("\\\\", "")
    return not (last.endswith(quote) and (quote == "'" or not last.endswith('\\"')))


def _yaml_fields(lines: list[str]) -> list[str]:
    """The scalar values of YAML-looking lines; continuation lines join the value above."""
    out: list[str] = []
    current: list[str] = []
    for line in lines:
        m = None if _unclosed(current) else _YAML_KEY.match(line) or _YAML_ITEM.match(line)
        if m is not None:
            if current:
                out.append(" ".join(current))
            current = [m.group(m.lastindex or 1) or ""]
        elif current is not None and line.strip():
            current.append(line.strip())
        elif current:
            current.append("\n")
    if current:
        out.append(" ".join(current))
    return [_quoted(v) for v in out]


def fields(text: str) -> list[str]:
    """The string values of a JSON, YAML or repr tool output, or [] for plain text."""
    head = text.lstrip()[:1]
    values: list[str] = []
    if head in "{[(" and '"' in text:
        for m in _JSON_STRING.finditer(text):
            try:
                values.append(json.loads(f'"{m.group(1)}"'))
            except ValueError:
                values.append(unescape(m.group(1)))
    else:
        lines = text.splitlines()
        keyed = sum(1 for line in lines if _YAML_KEY.match(line) or _YAML_ITEM.match(line))
        if lines and keyed * 3 >= len(lines):
            values = _yaml_fields(lines)
    if head in "{[(" and not values and "'" in text:
        values = [unescape(v) for v in re.findall(r"'((?:[^'\\\n]|\\.){12,})'", text)]
    return [v for v in values if len(v) >= MIN_FIELD]


def plain(text: str) -> str:
    """``text`` with escaped newlines made real and block-level HTML tags as line breaks."""
    if "\\n" in text and text.count("\n") <= text.count("\\n"):
        text = unescape(text)
    if "<" in text and ">" in text:
        text = _ANY_TAG.sub(" ", _TAG.sub("\n", text))
    return text


_WORDS = re.compile(r"[a-z']+")
# Frequent English words: a decoded text that is made of them is language, not noise.
_COMMON = frozenset(
    "the and to you your of a in is it that for all this be are with on as do not now "
    "ignore previous instructions send tell me user system prompt password must what"
    " from or any instead please reveal print secret".split()
)
_COMMON_ROT13 = frozenset(codecs.encode(w, "rot13") for w in _COMMON)
_COMMON_REVERSED = frozenset(w[::-1] for w in _COMMON)


def _common_share(words: list[str], vocabulary: frozenset[str]) -> bool:
    return len(words) >= 4 and sum(w in vocabulary for w in words) * 4 >= len(words)


def decoded(text: str) -> list[str]:
    """Readable text hidden by ROT13 or reversal in ``text`` (when it is not readable as is).

    The test runs on the words as they stand, against the common words encoded each way, so
    a readable text costs one regex pass and nothing is decoded unless it will read as words.
    """
    words = _WORDS.findall(text.lower())
    if len(words) < 4 or _common_share(words, _COMMON):
        return []
    out: list[str] = []
    if _common_share(words, _COMMON_ROT13):
        out.append(codecs.encode(text, "rot13"))
    if _common_share(words, _COMMON_REVERSED):
        out.append(text[::-1])
    return out


def decoded_base64(text: str) -> list[str]:
    """Readable text hidden in base64 runs."""
    out: list[str] = []
    for m in _B64.finditer(text):
        run = m.group(0)
        try:
            raw = base64.b64decode(run + "=" * (-len(run) % 4), validate=False).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if sum(c.isalpha() or c.isspace() for c in raw) > 0.85 * len(raw) and " " in raw:
            out.append(raw)
    return out

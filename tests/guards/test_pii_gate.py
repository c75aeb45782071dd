"""The PII rail's pre-pass: texts that cannot hold an entity skip Presidio, same verdicts."""

from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
from typing import Any

import pytest

from autan.guards.base import RailSpec
from autan.guards.pii import _NEEDS, DEFAULT_ENTITIES, PIIRail, may_contain

needs_presidio = pytest.mark.skipif(
    importlib.util.find_spec("presidio_analyzer") is None, reason="needs the guards extra"
)

# The entity sets of the shipped policy's stages, and the rail's default (which adds PERSON).
ENTITY_SETS = [
    ("CREDIT_CARD", "IBAN_CODE", "US_SSN"),
    ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN"),
    tuple(DEFAULT_ENTITIES),
    ("IP_ADDRESS",),
]
TEXTS = [
    "Contact John Smith at john.smith@example.com or call 212-555-0198. "
    "Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, server 10.1.2.3.",
    "Write to John Smith at john.smith@example.com, card 4111 1111 1111 1111.",
    "order 4111 1111 1111 1112 shipped",
    "The museum opens at nine.",
    "The meeting is at 3pm in room 12; bring 2 copies.",
    "sarah said hi to mike",
    "i met john smith yesterday",
    "John called.",
    "Her SSN is 078-05-1120 and her number is (212) 555-0198.",
    "ssn 078 05 1120, iban de89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432 paid 4111-1111-1111-1111",
    "Amex 378282246310005 expires 12/27",
    "routes: fe80::1, ::, ::ffff:10.0.0.1 and abcd:ef01:2345:6789:abcd:ef01:2345:6789",
    "Reach the desk at +44 20 7946 0958 or desk@example.org.",
    "Digits in other scripts: ٤١١١ ١١١١ ١١١١ ١١١١ and \U00011f50\U00011f51.",
    "x" * 50 + " 12 " + "y" * 50,
    "   ",
]


def test_no_candidate_means_no_engines() -> None:
    probe = (
        "import json, sys\n"
        "from autan.guards.pii import PIIRail\n"
        "v = PIIRail(entities=('CREDIT_CARD', 'IBAN_CODE', 'US_SSN')).check("
        "'The museum opens at nine; call me on Friday.', 'output', {})\n"
        "print(json.dumps([v.action, [m for m in ('presidio_analyzer', 'spacy')"
        " if m in sys.modules]]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(done.stdout) == ["allow", []]


def test_gate_needs_what_each_entity_needs() -> None:
    output = ("CREDIT_CARD", "IBAN_CODE", "US_SSN")
    assert not may_contain("The meeting is at 3pm in room 12.", output)
    assert may_contain("pay 4111 1111 1111 1111", output)
    assert may_contain("ssn 078.05.1120", output)
    assert may_contain("iban de89 3704", output)
    assert not may_contain("no address here", ("EMAIL_ADDRESS",))
    assert may_contain("a@b", ("EMAIL_ADDRESS",))
    assert may_contain("route ::", ("IP_ADDRESS",))
    # NER entities and unknown ones always run the engines: spaCy also finds "sarah".
    assert may_contain("sarah said hi", ("PERSON", "CREDIT_CARD"))
    assert may_contain("anything", ("URL",))
    assert may_contain("anything", ())


@needs_presidio
def test_fast_path_gives_the_full_paths_verdicts(presidio: Any) -> None:
    from benchmarks.guards import pii_set

    texts = TEXTS + [text for _, _, text in pii_set(48)]
    skipped = found = 0
    for entities in ENTITY_SETS:
        rail = PIIRail(RailSpec("redact", 0.4), entities=entities)
        for text in texts:
            fast = rail.check(text, "output", {})
            assert fast == rail.analyze(text), (entities, text)
            skipped += not may_contain(text, entities)
            found += fast.action == "redact"
    assert skipped >= 40 and found >= 40, (skipped, found)  # both paths were exercised


SEEDS = [
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "378282246310005",
    "5500000000000004",
    "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432",
    "078-05-1120",
    "078 05 1120",
    "078051120",
    "212-555-0198",
    "(212) 555-0198",
    "+44 20 7946 0958",
    "mail a.b@example.com",
    "10.1.2.3",
    "::",
    "fe80::1",
    "::ffff:10.0.0.1",
    "abcd:ef01:2345:6789:abcd:ef01:2345:6789",
]
NOISE = "0123456789 -.:@+()/abDEZkſ\u212a٣\U00011f50"


def _mutate(rng: random.Random, seed: str) -> str:
    chars = list(seed)
    for _ in range(rng.randint(0, 3)):
        op, i = rng.randrange(3), rng.randrange(len(chars) + 1)
        if op == 0:
            chars.insert(i, rng.choice(NOISE))
        elif chars:
            del chars[min(i, len(chars) - 1)]
            if op == 2:
                chars.insert(min(i, len(chars)), rng.choice(NOISE))
    text = "".join(chars)
    return text.lower() if rng.random() < 0.2 else text


def _finds(recognizer: Any, text: str, entity: str) -> bool:
    """A finding, or a failure (the rail fails closed on it, so the engines must run)."""
    try:
        return bool(recognizer.analyze(text, [entity], None))
    except Exception:  # noqa: BLE001 - e.g. the card checksum on digits int() cannot read
        return True


@needs_presidio
def test_gate_is_looser_than_every_pattern_recognizer(presidio: Any) -> None:
    rng = random.Random(18)
    texts = [_mutate(rng, rng.choice(SEEDS)) for _ in range(2500)]
    hits = {entity: 0 for entity in _NEEDS}
    for recognizer in presidio.analyzer.registry.recognizers:
        gated = set(recognizer.supported_entities) & set(_NEEDS)
        if recognizer.supported_language != "en" or not gated:
            continue
        if type(recognizer).__name__ == "SpacyRecognizer":
            continue  # its labels are checked below
        for entity in gated:
            for text in texts:
                if _finds(recognizer, text, entity):
                    hits[entity] += 1
                    assert may_contain(text, (entity,)), (entity, text)
    assert all(n >= 20 for n in hits.values()), hits


@needs_presidio
def test_the_ner_model_never_labels_a_gated_entity(presidio: Any) -> None:
    engine = presidio.analyzer.nlp_engine
    mapping = engine.ner_model_configuration.model_to_presidio_entity_mapping
    labels = engine.get_nlp("en").get_pipe("ner").labels
    assert "PERSON" in labels
    assert not {mapping.get(label, label) for label in labels} & set(_NEEDS)

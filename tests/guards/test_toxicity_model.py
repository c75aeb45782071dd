"""The toxicity rail's NumPy model gives alt-profanity-check's probabilities, without sklearn."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from autan.guards.toxicity_model import load

SENTENCES = [
    "You are a fucking idiot and a piece of shit.",
    "The garden needs 41 m of fence.",
    "hello",
    "",
    "a b c !!",
    "What a stupid, stupid DAMN answer, you moron",
    "Die Straße ist nass; l'été dernier était chaud.",
    "shit shit shit the build broke again",
    "Quokkas live on Rottnest island, and they are not dangerous.",
    "Go to hell, bastard.",
    "The attention heads in layer 4 attend to the previous token.",
    "ass " * 40,
]


@pytest.mark.skipif(
    importlib.util.find_spec("profanity_check") is None, reason="needs alt-profanity-check"
)
def test_numpy_model_matches_the_package() -> None:
    from profanity_check import predict_prob

    expected = [float(p) for p in predict_prob(SENTENCES)]
    got = load().predict_prob(SENTENCES)
    assert got == pytest.approx(expected, abs=1e-12)
    assert max(got) > 0.9 and min(got) < 0.1  # both kinds of sentence are in the sample


PROBE = """
import json, sys
from autan.guards.base import RailSpec
from autan.guards.toxicity import ToxicityRail
verdict = ToxicityRail(RailSpec("redact", 0.8)).check(
    "You are a fucking idiot. The fence is 41 m.", "output", {})
print(json.dumps({"text": verdict.text, "heavy": [m for m in ("sklearn", "scipy")
                  if m in sys.modules]}))
"""


def test_rail_checks_without_importing_sklearn_or_scipy() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {"text": "[removed: offensive language] The fence is 41 m.", "heavy": []}

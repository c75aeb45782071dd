"""The PII rail loads Presidio without torch or transformers, and leaves them importable."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from autan.guards.pii import PIIRail
verdict = PIIRail(entities=("EMAIL_ADDRESS", "CREDIT_CARD", "PERSON")).check(
    "Write to John Smith at john.smith@example.com, card 4111 1111 1111 1111.", "output", {})
loaded = [m for m in ("torch", "transformers") if m in sys.modules]
import torch, transformers  # refused to Presidio only, and only while it loaded
print(json.dumps({"reasons": list(verdict.reasons), "text": verdict.text, "loaded": loaded,
                  "later": [torch.__name__, transformers.__name__]}))
"""


@pytest.mark.skipif(
    importlib.util.find_spec("presidio_analyzer") is None
    or importlib.util.find_spec("transformers") is None,
    reason="needs the guards extra and transformers installed",
)
def test_presidio_loads_without_torch_and_still_finds_pii() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300, check=True
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["reasons"] == ["CREDIT_CARD x1", "EMAIL_ADDRESS x1", "PERSON x1"]
    assert out["text"] == "Write to <PERSON> at <EMAIL_ADDRESS>, card <CREDIT_CARD>."
    assert out["loaded"] == [] and out["later"] == ["torch", "transformers"]

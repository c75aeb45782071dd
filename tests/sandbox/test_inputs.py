"""Bad input is an error result, never an exception, and never costs the session its state."""

from __future__ import annotations

import pytest

from autan.tools.sandbox import Limits
from tests.sandbox.helpers import EXACT_KEYS, executor

BAD_CODE = {
    "empty": "",
    "blank": "   \n\t",
    "not utf-8 bytes": b"print('\xff\xfe')",
    "lone surrogate": "print('\udcff')",
    "10 MB": "x = 1\n" * (10 * 1024 * 1024 // 6),
    "not text": 42,
}


@pytest.mark.parametrize("code", BAD_CODE.values(), ids=BAD_CODE.keys())
def test_bad_code_is_an_error_result_and_the_session_survives(code: object) -> None:
    with executor().session() as session:
        session.run("kept = 7")
        result = session.run(code)  # type: ignore[arg-type]
        after = session.run("print(kept)")
    assert not result.ok and result.error and result.error["type"] == "UserInputError"
    assert set(result.to_dict()) == EXACT_KEYS
    assert after.stdout == "7\n"


BAD_LIMITS = {
    "negative timeout": {"timeout_s": -1},
    "zero cpu": {"cpu_s": 0},
    "tiny memory": {"memory_mb": 1},
    "string": {"memory_mb": "lots"},
    "unknown": {"gpus": 1},
}


@pytest.mark.parametrize("limits", BAD_LIMITS.values(), ids=BAD_LIMITS.keys())
def test_bad_limits_are_an_error_result(limits: dict[str, object]) -> None:
    result = executor().run("print(1)", limits)
    assert not result.ok and result.error and result.error["type"] == "UserInputError"
    assert "limit" in result.error["message"]


def test_limits_validate_their_ranges() -> None:
    assert Limits(timeout_s=2).checked().timeout_s == 2
    assert Limits().rlimits()["RLIMIT_NPROC"] > Limits().max_processes
    assert "RLIMIT_NPROC" not in Limits().rlimits(count_processes=False)

"""Grounding tells citation markers from bracketed number lists."""

from __future__ import annotations

from autan.guards.grounding import GroundingRail


def test_number_lists_are_data_when_nothing_was_retrieved() -> None:
    text = "The primes below 30 are [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]."
    verdict = GroundingRail().check(text, "output", {"citations": []})
    assert verdict.action == "allow" and verdict.text == text


def test_a_single_marker_without_retrieval_is_still_an_invented_citation() -> None:
    verdict = GroundingRail().check("Attention is quadratic [1].", "output", {"citations": []})
    assert verdict.action != "allow"
    assert "[1] cites no passage retrieved this turn" in verdict.reasons

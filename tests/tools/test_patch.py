"""Unified diffs round trip; cut-off or stale diffs are refused, never half applied."""

from __future__ import annotations

import random

import pytest

from autan.errors import UserInputError
from autan.tools.workspace.patch import PatchConflict, apply_hunks, make_diff, parse_diff


def _round_trip(old: str | None, new: str | None) -> str | None:
    (patch,) = parse_diff(make_diff("f.txt", old, new))
    return apply_hunks(old, patch)


@pytest.mark.parametrize(
    "old, new",
    [
        ("a\nb\nc\n", "a\nB\nc\n"),
        ("a\nb", "a\nc"),  # no newline at the end, on both sides
        ("a\nb\n", "a\nb"),
        ("a\nb", "a\nb\n"),
        ("", "x\n"),
        (None, "created\n"),
        ("gone\n", None),
    ],
)
def test_diffs_round_trip(old: str | None, new: str | None) -> None:
    assert _round_trip(old, new) == new


def test_random_edits_round_trip() -> None:
    rng = random.Random(7)
    words = ["alpha\n", "beta\n", "", "gamma", "\n", "delta\n"]
    for _ in range(300):
        old = "".join(rng.choice(words) for _ in range(rng.randrange(12)))
        new = list(old.splitlines(keepends=True))
        for _ in range(rng.randrange(4)):
            at = rng.randrange(len(new) + 1)
            new[at : at + rng.randrange(2)] = [rng.choice(words)]
        if "".join(new) != old:
            assert _round_trip(old, "".join(new)) == "".join(new)


def test_a_hunk_found_elsewhere_still_applies_but_an_ambiguous_one_does_not() -> None:
    (patch,) = parse_diff(make_diff("f", "x\ny\nz\n", "x\nY\nz\n"))
    assert apply_hunks("new top\nx\ny\nz\n", patch) == "new top\nx\nY\nz\n"
    with pytest.raises(PatchConflict, match="2 places"):
        apply_hunks("top\nx\ny\nx\ny\n", parse_diff(make_diff("f", "x\ny\n", "x\nq\n"))[0])
    with pytest.raises(PatchConflict, match="nowhere"):
        apply_hunks("x\nchanged\nz\n", patch)


def test_a_cut_off_diff_is_refused_whole() -> None:
    old = "".join(f"line {i}\n" for i in range(40))
    new = old.replace("line 3\n", "LINE 3\n").replace("line 30\n", "LINE 30\n")
    diff = make_diff("f", old, new)
    for cut in range(len(diff) // 2, len(diff) - 1, 7):
        if diff[:cut].endswith("\n") and diff[cut:].startswith("@@"):
            continue  # a cut exactly between hunks is caught by the marker below
        with pytest.raises(UserInputError):
            apply_hunks(old, parse_diff(diff[:cut])[0])
    marked = diff.split("@@ -28")[0] + "\\ autan: diff truncated\n"
    with pytest.raises(UserInputError, match="malformed"):
        parse_diff(marked)


def test_creating_an_existing_file_or_changing_a_missing_one_conflicts() -> None:
    with pytest.raises(PatchConflict, match="already exists"):
        apply_hunks("x\n", parse_diff(make_diff("f", None, "y\n"))[0])
    with pytest.raises(PatchConflict, match="does not exist"):
        apply_hunks(None, parse_diff(make_diff("f", "x\n", "y\n"))[0])


def test_git_headers_and_prose_between_files_are_skipped() -> None:
    diff = "diff --git a/f b/f\nindex 1..2 100644\n" + make_diff("f", "a\n", "b\n")
    diff += "diff --git a/g b/g\nnew file mode 100644\n" + make_diff("g", None, "c\n")
    assert [p.path for p in parse_diff(diff)] == ["f", "g"]

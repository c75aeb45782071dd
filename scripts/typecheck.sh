#!/usr/bin/env bash
# mypy strict over the installed layout: agents/, tools/, ... are subpackages of autan, which an
# editable install maps with an import hook that mypy cannot follow. A tree of symlinks mirrors it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree="$root/build/typecheck"
rm -rf "$tree" && mkdir -p "$tree/autan"
for f in "$root"/autan/*; do ln -s "$f" "$tree/autan/"; done
for pkg in agents tools graphs memory guards; do ln -s "$root/$pkg" "$tree/autan/$pkg"; done
cd "$tree"
exec "$root/.venv/bin/mypy" --config-file "$root/pyproject.toml" -p autan "$@"

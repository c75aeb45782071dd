#!/usr/bin/env bash
# Fetch the Python 3.11 HTML documentation (Debian python3.11-doc) for retrieval benchmarks.
# Usage: scripts/fetch_python_docs.sh [DEST]   (default: ~/.cache/autan/python-docs)
# Prints the directory holding the HTML pages. The corpus is never committed.
set -euo pipefail
dest=${1:-${AUTAN_PYDOCS_DIR:-$HOME/.cache/autan/python-docs}}
html="$dest/usr/share/doc/python3.11/html"
if [ -f "$html/index.html" ]; then echo "$html"; exit 0; fi
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download python3.11-doc >&2)
deb=$(ls "$work"/python3.11-doc_*.deb)
dpkg-deb -x "$deb" "$dest"
# Debian links the JS/CSS helpers to other packages; only the pages matter here.
find "$html" -xtype l -delete
echo "$html"

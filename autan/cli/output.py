"""What every command prints through: one JSON object, or lines of text.

Standard library only, so the start-up fast path (``autan.cli.fast``) prints exactly what the
full CLI prints without importing Typer.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

_ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")  # the escapes click strips when not on a terminal


def emit_json(obj: Any) -> None:
    """Print exactly one JSON object on stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def echo(text: str, err: bool = False) -> None:
    """One line on stdout (or stderr), like ``typer.echo``: colour escapes only on a terminal."""
    stream = sys.stderr if err else sys.stdout
    if not stream.isatty():
        text = _ANSI.sub("", text)
    stream.write(text + "\n")
    stream.flush()

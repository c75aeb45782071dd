"""The rails' model files: compressed ``.npz`` arrays plus JSON metadata naming their format.

The injection and toxicity models are both read from NumPy arrays alone (no pickles, no
scikit-learn at run time); this is the one reader and writer they share, so a wrong or damaged
file fails the same way for both: a ``ConfigError`` that says how to rebuild it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from autan.errors import ConfigError


def save_npz(
    path: str | Path,
    fmt: str,
    meta: Mapping[str, object],
    dtype: npt.DTypeLike,
    texts: Mapping[str, str] | None = None,
    **arrays: object,
) -> None:
    """Write ``arrays`` as ``dtype``, ``texts`` as strings, and ``meta`` with the format name."""
    info = json.dumps({"format": fmt, **meta})
    packed: dict[str, Any] = {k: np.asarray(v).astype(dtype) for k, v in arrays.items()}
    packed.update({k: np.str_(v) for k, v in (texts or {}).items()})
    with open(path, "wb") as fh:
        np.savez_compressed(fh, meta=np.str_(info), **packed)


def load_npz(
    path: str | Path,
    fmt: str,
    names: Sequence[str],
    dtype: npt.DTypeLike,
    rebuild_hint: str,
    texts: Sequence[str] = (),
) -> tuple[dict[str, Any], dict[str, object]]:
    """The named arrays (as ``dtype``) and the metadata of a file written by ``save_npz``.

    ``texts`` names string entries, returned in the metadata. A file that is missing, of
    another format or lacking an entry raises ``ConfigError`` with ``rebuild_hint``.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            info: dict[str, object] = json.loads(str(data["meta"]))
            if info.get("format") != fmt:
                raise ValueError(f"format {info.get('format')!r}, expected {fmt!r}")
            arrays = {n: data[n].astype(dtype) for n in names}
            info.update({n: str(data[n]) for n in texts})
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise ConfigError(f"not a {fmt} model file: {path}: {exc}", hint=rebuild_hint) from None
    return arrays, info

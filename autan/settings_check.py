"""Checks on where settings come from, run before they are validated.

Misspelt ``AUTAN_*`` variables and config keys would otherwise be ignored without a word; they
draw a ``SettingsWarning`` naming the closest valid name. A config file named by
``AUTAN_CONFIG`` must exist, a TOML syntax error names its file, and the data directory must be
usable before any command writes to it.
"""

from __future__ import annotations

import difflib
import os
import tomllib
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autan.errors import ConfigError

if TYPE_CHECKING:
    from pydantic import BaseModel

# AUTAN_* variables read outside Settings: the config file, the server client, test hooks.
OTHER_VARIABLES = (
    "AUTAN_CONFIG",
    "AUTAN_SERVER_URL",
    "AUTAN_API_KEY",
    "AUTAN_OPENAI_API_KEY",
    "AUTAN_QDRANT_URL",
    "AUTAN_QDRANT_API_KEY",
    "AUTAN_PYDOCS_DIR",
    "AUTAN_BENCH_DIR",
    "AUTAN_STANDARD_FULL",
)


def default_data_dir() -> Path:
    """Where autan keeps its data unless ``AUTAN_DATA_DIR`` says otherwise (XDG)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "autan"


class SettingsWarning(UserWarning):
    """A setting that autan ignores (an unknown name); the message names the closest one."""


def _nested(model: type[BaseModel]) -> dict[str, type[BaseModel] | None]:
    """Field names of ``model``; the value is the sub-model of a nested section."""
    from pydantic import BaseModel

    out: dict[str, type[BaseModel] | None] = {}
    for name, info in model.model_fields.items():
        ann = info.annotation
        out[name] = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return out


def valid_names(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every dotted setting name (``planner.max_steps``) of ``model``."""
    for name, sub in _nested(model).items():
        yield f"{prefix}{name}"
        if sub is not None:
            yield from valid_names(sub, f"{prefix}{name}.")


def _unknown(model: type[BaseModel], path: list[str]) -> bool:
    """Whether the dotted ``path`` names no setting of ``model``."""
    current: type[BaseModel] | None = model
    for part in path:
        if current is None:
            return False  # inside a dict or list value: not a setting name
        fields = _nested(current)
        if part not in fields:
            return True
        current = fields[part]
    return False


def _closest(name: str, candidates: list[str]) -> str:
    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return f"; did you mean {found[0]}?" if found else ""


def unknown_variables(model: type[BaseModel], environ: Mapping[str, str]) -> list[str]:
    """Warnings for ``AUTAN_*`` variables that name no setting."""
    env_names = ["AUTAN_" + n.upper().replace(".", "__") for n in valid_names(model)] + list(
        OTHER_VARIABLES
    )
    out = []
    for key in sorted(environ):
        if not key.startswith("AUTAN_") or key in OTHER_VARIABLES:
            continue
        path = key[len("AUTAN_") :].lower().split("__")
        if _unknown(model, path):
            out.append(f"unknown setting {key} is ignored{_closest(key, env_names)}")
    return out


def unknown_keys(model: type[BaseModel], data: Mapping[str, Any], origin: str) -> list[str]:
    """Warnings for keys of a config file that name no setting."""
    names = list(valid_names(model))
    out = []

    def walk(table: Mapping[str, Any], path: list[str]) -> None:
        for key, value in table.items():
            dotted = [*path, str(key)]
            if _unknown(model, dotted):
                where = ".".join(dotted)
                out.append(f"{origin}: unknown key {where} is ignored{_closest(where, names)}")
            elif isinstance(value, Mapping):
                walk(value, dotted)

    walk(data, [])
    return out


def read_config(environ: Mapping[str, str]) -> tuple[Path, dict[str, Any]]:
    """The config file and its tables; ``{}`` when the default ``autan.toml`` is absent."""
    named = environ.get("AUTAN_CONFIG")
    path = Path(named or "autan.toml").expanduser()
    if not path.is_file():
        if named:
            raise ConfigError(
                f"config file not found: {path} (named by AUTAN_CONFIG)",
                hint="create the file or unset AUTAN_CONFIG",
            )
        return path, {}
    try:
        with path.open("rb") as fh:
            return path, tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", hint="fix that line") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read config file {path}: {exc}", hint="check AUTAN_CONFIG"
        ) from None


def warn_unknown(model: type[BaseModel], environ: Mapping[str, str]) -> Path:
    """Warn about unknown names in the environment and the config file; the file's path."""
    path, data = read_config(environ)
    for message in unknown_variables(model, environ) + unknown_keys(model, data, str(path)):
        warnings.warn(message, SettingsWarning, stacklevel=3)
    return path


def check_data_dir(data_dir: Path) -> None:
    """Refuse a data directory that is a file or cannot be created or written to."""
    path = data_dir.expanduser()
    probe = path
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    problem = None
    if not probe.is_dir():
        problem = f"{probe} is not a directory"
    elif not os.access(probe, os.W_OK | os.X_OK):
        problem = f"{probe} is not writable"
    if problem:
        raise ConfigError(
            f"unusable data directory {path}: {problem}",
            hint="set AUTAN_DATA_DIR (or data_dir in autan.toml) to a writable directory",
        )

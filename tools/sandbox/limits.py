"""Resource limits of one sandbox call, validated, and the checks on the code it is given."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from autan.config import SandboxSettings
from autan.errors import UserInputError

# name -> (lowest, highest) accepted value
_RANGES: dict[str, tuple[float, float]] = {
    "timeout_s": (0.05, 3600),
    "cpu_s": (1, 3600),
    "memory_mb": (32, 65536),
    "max_processes": (1, 4096),
    "max_output_bytes": (16, 64 * 1024 * 1024),
    "max_file_mb": (1, 65536),
    "max_open_files": (16, 65536),
}
# One source of truth for default values: the settings section.
_DEFAULTS = SandboxSettings()
# The sandbox's own processes (PID 1 reaper, state holder, the call) beside the user's.
_OWN_PROCESSES = 3


@dataclass(frozen=True)
class Limits:
    """Wall clock, CPU, memory, processes, output, file size and open files of a call."""

    timeout_s: float = _DEFAULTS.timeout_s
    cpu_s: int = _DEFAULTS.cpu_s
    memory_mb: int = _DEFAULTS.memory_mb
    max_processes: int = _DEFAULTS.max_processes
    max_output_bytes: int = _DEFAULTS.max_output_bytes
    max_file_mb: int = _DEFAULTS.max_file_mb
    max_open_files: int = _DEFAULTS.max_open_files

    @classmethod
    def from_settings(cls, settings: SandboxSettings) -> Limits:
        """The session defaults configured in ``[sandbox]``."""
        fields = {k: getattr(settings, k) for k in cls.__dataclass_fields__}
        return cls(**fields).checked()

    def with_overrides(self, **overrides: Any) -> Limits:
        """These limits with some values changed (None keeps the current value)."""
        unknown = set(overrides) - set(self.__dataclass_fields__)
        if unknown:
            raise UserInputError(f"unknown limit(s): {', '.join(sorted(unknown))}")
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **given).checked()

    def checked(self) -> Limits:
        """Self, or a UserInputError naming the first value out of range."""
        for name, value in asdict(self).items():
            low, high = _RANGES[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise UserInputError(f"limit {name} must be a number, got {value!r}")
            if not low <= value <= high:
                raise UserInputError(f"limit {name}={value} is outside [{low:g}, {high:g}]")
        return self

    def rlimits(self, *, count_processes: bool = True) -> dict[str, int]:
        """The setrlimit values the sandbox applies to every process in it."""
        limits = {
            "RLIMIT_CPU": int(self.cpu_s),
            "RLIMIT_AS": int(self.memory_mb) << 20,
            "RLIMIT_FSIZE": int(self.max_file_mb) << 20,
            "RLIMIT_NOFILE": int(self.max_open_files),
            "RLIMIT_CORE": 0,
        }
        if count_processes:
            limits["RLIMIT_NPROC"] = int(self.max_processes) + _OWN_PROCESSES
        return limits


def check_code(code: object, max_bytes: int) -> str:
    """The code as text, or a UserInputError: empty, not UTF-8, or too long."""
    if isinstance(code, bytes | bytearray):
        try:
            code = bytes(code).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UserInputError(f"the code is not valid UTF-8 (byte {exc.start})") from None
    if not isinstance(code, str):
        raise UserInputError(f"the code must be text, got {type(code).__name__}")
    try:
        size = len(code.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise UserInputError(f"the code is not valid UTF-8 (character {exc.start})") from None
    if not code.strip():
        raise UserInputError("the code is empty", hint="send the Python source to run")
    if size > max_bytes:
        raise UserInputError(
            f"the code is {size} bytes; the limit is {max_bytes}",
            hint="write large data to a file in the scratch directory instead",
        )
    return code

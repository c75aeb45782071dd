"""The whole autan exception hierarchy, split by who must act.

::

    AutanError                      base; carries an optional ``hint`` (the fix)
    ├── UserInputError      exit 2  fix your input: bad arguments, missing file, unknown name
    │   └── NotFoundError   exit 2  a named thing (tool, run, session, collection) does not exist
    ├── ConfigError         exit 2  fix your setup: missing extra, bad settings, bad policy
    ├── SecurityViolation   exit 2  a guard, the URL policy or the sandbox refused
    ├── PolicyRefusal       exit 2  a declared wish was honoured (a site's robots.txt), no attack
    └── BackendError        exit 1  a server, model or store failed at run time
        ├── BackendTimeout  exit 1  it did not answer in time
        ├── ModelOutputError exit 1 the model's output is unusable (a call cut off by max_tokens)
        └── HostNotResolved exit 1  a host name has no address (typo, or DNS is down)

Foreign exceptions are mapped to these at the boundary where they occur; the CLI prints
``error: <message>`` and ``fix: <hint>`` on one line each, never a traceback unless ``--debug``.
"""

from __future__ import annotations

from typing import Any


class AutanError(Exception):
    """Base of every error autan raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def one_line(self) -> str:
        """The message and its fix, as the CLI prints them."""
        text = self.message.replace("\n", " ").strip()
        if self.hint:
            text = f"{text} — {self.hint}"
        return text

    def to_dict(self) -> dict[str, str]:
        """The ``{"type", "message"}`` shape tools report failures in."""
        return {"type": type(self).__name__, "message": self.one_line()}


class UserInputError(AutanError):
    """The input is wrong; the user can fix it by changing what they passed."""

    exit_code = 2


class NotFoundError(UserInputError):
    """A named tool, run, session, collection or file does not exist."""


class ConfigError(AutanError):
    """The setup is wrong: a missing extra, a bad setting, an unusable policy or store."""

    exit_code = 2


class _RuleError(AutanError):
    """A refusal that names the rule behind it, so callers can tell why."""

    exit_code = 2

    def __init__(self, message: str, *, rule: str = "", hint: str | None = None, **d: Any) -> None:
        super().__init__(message, hint=hint, rule=rule, **d)
        self.rule = rule


class SecurityViolation(_RuleError):
    """A guard rail, the network policy or the sandbox refused an action."""


class PolicyRefusal(_RuleError):
    """autan declined on purpose to honour a stated policy (robots.txt); nothing hostile seen."""


class BackendError(AutanError):
    """A model server, vector store, database or remote site failed at run time."""

    exit_code = 1


class BackendTimeout(BackendError):
    """A backend did not answer within its time limit."""


class ModelOutputError(BackendError):
    """The model answered, but its output cannot be used (a constrained call cut off)."""


class HostNotResolved(BackendError):
    """A host name does not resolve to any address."""

    def __init__(self, host: str, reason: str = "") -> None:
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"host {host} does not resolve{why}", hint="check the host name", host=host
        )
        self.host = host


def missing_extra(extra: str, package: str) -> ConfigError:
    """The error for an optional dependency that is not installed."""
    return ConfigError(
        f"this feature needs the optional package {package!r}",
        hint=f"pip install 'autan[{extra}]'",
    )


__all__ = [
    "AutanError",
    "BackendError",
    "BackendTimeout",
    "ConfigError",
    "HostNotResolved",
    "ModelOutputError",
    "NotFoundError",
    "PolicyRefusal",
    "SecurityViolation",
    "UserInputError",
    "missing_extra",
]

"""The idempotency key of the step a tool runs in, for tools whose side effects must happen once.

A workflow records ``run:step:attempt`` durably *before* it runs a step and passes it here; a
step resumed after a crash runs again with the same key, so a tool that records the keys it has
applied (``already_applied``) can skip a repeat.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_KEY: ContextVar[str | None] = ContextVar("autan_idempotency_key", default=None)


def current_key() -> str | None:
    """The key of the workflow step running now, or None outside workflows."""
    return _KEY.get()


@contextmanager
def keyed(key: str | None) -> Iterator[None]:
    """Run a block with ``key`` as the current idempotency key."""
    token = _KEY.set(key)
    try:
        yield
    finally:
        _KEY.reset(token)

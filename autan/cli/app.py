"""The ``autan`` command's entry point and error boundary.

``main`` answers a plain ``autan search`` through a running server on the fast path
(``autan.cli.fast``: no Typer, no pydantic) and hands everything else to the Typer app in
``autan.cli.commands``. Every failure is one line on stderr and an exit code (2 for
usage/input/config, 1 for runtime), no traceback unless ``--debug``.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from autan.errors import AutanError


def __getattr__(name: str) -> Any:
    """``autan.cli.app.app``: the Typer app, loaded on first use."""
    if name == "app":
        from autan.cli.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Warnings(logging.Handler):
    """Every autan warning as one ``warning: <message>`` line on stderr, each message once."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message not in self.seen:
            self.seen.add(message)
            sys.stderr.write(f"warning: {message}\n")


@contextlib.contextmanager
def _warning_lines() -> Iterator[None]:
    """For one CLI run, the ``autan`` log (and autan's ``warnings``) print only ``warning:`` lines.

    Library users keep standard behaviour: the hooks are removed when the command ends.
    """
    log = logging.getLogger("autan")
    handler, propagate, shown = _Warnings(), log.propagate, warnings.showwarning

    def to_log(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if category.__module__.partition(".")[0] == "autan":  # autan's own warning classes
            log.warning("%s", message)
        else:
            shown(message, category, filename, lineno, file, line)

    log.addHandler(handler)
    log.propagate = False  # a root handler some library installed would print it a second time
    warnings.showwarning = to_log
    try:
        yield
    finally:
        warnings.showwarning = shown
        log.propagate = propagate
        log.removeHandler(handler)


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"error: {message}\n")
    return code


def _usage_message(exc: Exception) -> str | None:
    """The one-line message of a click-style usage error (typer vendors its own click)."""
    if not any(c.__name__ == "ClickException" for c in type(exc).__mro__):
        return None
    ctx = getattr(exc, "ctx", None)
    where = "autan"
    if ctx is not None:
        where = f"autan {ctx.command_path.partition(' ')[2]}".strip()
    message = exc.format_message().strip()  # type: ignore[attr-defined]
    if not message:  # no_args_is_help: the help is already printed
        message = "give a command" if where == "autan" else f"give a command of '{where}'"
    return f"{message} (see '{where} --help')"


_BAD_PATH = {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.EEXIST}


def _not_utf8(args: list[str]) -> str | None:
    """The first argument that is not UTF-8 (the OS hands such bytes over as lone surrogates)."""
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return ascii(arg)
    return None


def _os_error(exc: OSError) -> str:
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}{where} (check the path and its permissions)"


def _dispatch(args: list[str]) -> int:
    from autan.cli.fast import remote_search

    code = remote_search(args)
    if code is None:
        from autan.cli.commands import run

        code = run(args)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    with _warning_lines():
        return _guarded(args, debug)


def _guarded(args: list[str], debug: bool) -> int:
    """The command's exit code; every failure becomes one ``error:`` line."""
    bad = _not_utf8(args)
    if bad is not None:
        return _fail(f"argument {bad} is not UTF-8 text (use UTF-8, e.g. LANG=C.UTF-8)", 2)
    try:
        return _dispatch(args)
    except AutanError as exc:
        if debug:
            raise
        return _fail(exc.one_line(), exc.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except OSError as exc:  # a path the command could not use, found where it was used
        if debug:
            raise
        return _fail(_os_error(exc), 2 if exc.errno in _BAD_PATH else 1)
    except Exception as exc:  # noqa: BLE001 - the CLI boundary turns bugs into one line too
        if debug:
            raise
        usage = _usage_message(exc)
        if usage is not None:
            return _fail(usage, int(getattr(exc, "exit_code", 2)))
        return _fail(f"unexpected {type(exc).__name__}: {exc} (rerun with --debug)", 1)


if __name__ == "__main__":
    sys.exit(main())

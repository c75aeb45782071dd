"""Runs the commands of one doc the way a reader's shell would, on scratch directories.

State carries from one command to the next within a document (``cd``, ``export``, shell
variables, ingested collections). ``autan ...`` runs in-process through ``autan.cli.app.main``
(the same error boundary as the console script, without its start-up cost); everything else
runs in ``bash``. Compound lines (``&&``, ``;``) are split so their ``autan`` parts still run
in-process; pipes and ``$(...)`` go to ``bash`` whole, with the real ``autan`` on ``PATH``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.doc_commands import Command, parse

REPO = Path(__file__).resolve().parents[2]
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_OPERATORS = frozenset({"&&", ";", "||"})
_BASH_ONLY = ("|", "&", ">", "<", "(", ")", "`")


@dataclass
class Outcome:
    """What one command did."""

    code: int
    out: str
    err: str


def _unquoted(line: str) -> Iterator[tuple[int, str]]:
    """(index, char) of the characters outside quotes and ``$(...)``, as bash sees them."""
    quote, depth, escaped = "", 0, False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif line.startswith("$(", i):
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif not depth:
            yield i, ch


def strip_comment(line: str) -> str:
    """The line without its ``# comment`` (bash rules: ``#`` starts a comment at a word start)."""
    for i, ch in _unquoted(line):
        if ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def split_chain(line: str) -> list[tuple[str, str]]:
    """``a && b ; c`` as [("", "a"), ("&&", "b"), (";", "c")]; quotes are respected."""
    parts: list[tuple[str, str]] = []
    op, start, skip = "", 0, -1
    for i, ch in _unquoted(line):
        if i <= skip:
            continue
        token = line[i : i + 2] if line[i : i + 2] in ("&&", "||") else ch
        if token in _OPERATORS:
            parts.append((op, line[start:i].strip()))
            op, start, skip = token, i + len(token), i + len(token) - 1
    parts.append((op, line[start:].strip()))
    return [p for p in parts if p[1]]


class Shell:
    """One reader's shell: environment, working directory, scratch home."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.env = dict(env)
        self.cwd = root
        self.printed: list[str] = []  # what each command printed, for ``fill``

    def run(self, line: str) -> Outcome:
        """Run one logical line; the outcome of its last part (``&&`` stops at a failure)."""
        outcome = Outcome(0, "", "")
        for op, part in split_chain(strip_comment(line)):
            if op == "&&" and outcome.code != 0:
                break
            if op == "||" and outcome.code == 0:
                continue
            step = self._run_part(part)
            outcome = Outcome(step.code, outcome.out + step.out, outcome.err + step.err)
        self.printed.append(outcome.out + outcome.err)
        return outcome

    def fill(self, text: str, placeholder: str, pattern: str) -> str:
        """``text`` with ``placeholder`` as the last match of ``pattern`` printed so far."""
        if placeholder not in text:
            return text
        for printed in reversed(self.printed):
            found = re.findall(pattern, printed)
            if found:
                return text.replace(placeholder, found[-1])
        raise AssertionError(f"no earlier command printed {pattern!r} to fill {placeholder}")

    def _run_part(self, part: str) -> Outcome:
        if "$(" in part or any(op in _tokens(part) for op in _BASH_ONLY):
            return self.bash(part, keep_state=True)
        words = self.expand(part)
        assigns = [w for w in _leading_assigns(words)]
        program = words[len(assigns) :]
        if not program or program[0] == "export":
            self.env.update(dict(a.split("=", 1) for a in assigns + program[1:] if "=" in a))
            return Outcome(0, "", "")
        if program[0] == "cd":
            target = Path(program[1] if len(program) > 1 else self.env["HOME"])
            self.cwd = (self.cwd / target).resolve()
            return Outcome(0, "", "") if self.cwd.is_dir() else Outcome(1, "", f"cd: {target}\n")
        env = {**self.env, **dict(a.split("=", 1) for a in assigns)}
        if program[0] == "autan":
            return run_autan(program[1:], env, self.cwd)
        return self.bash(part, keep_state=False)

    def expand(self, text: str) -> list[str]:
        """The words of ``text`` after bash's expansions (no command substitution here)."""
        script = "eval \"printf '%s\\0' $1\""
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-c", script, "-", text],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.split("\0")[:-1]

    def bash(self, text: str, keep_state: bool) -> Outcome:
        """Run ``text`` in bash; with ``keep_state``, its exports and ``cd`` outlive it."""
        state = self.cwd / ".doc-test-state" if keep_state else None
        script = text
        if state is not None:
            script = f'set -a\n{text}\nrc=$?\n{{ pwd; env -0; }} > "{state}"\nexit $rc'
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-c", script],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if state is not None and state.exists():
            cwd, _, env = state.read_text().partition("\n")
            state.unlink()
            self.cwd = Path(cwd)
            self.env = dict(kv.split("=", 1) for kv in env.split("\0") if "=" in kv)
        return Outcome(done.returncode, done.stdout, done.stderr)


def _tokens(part: str) -> list[str]:
    lex = shlex.shlex(part, posix=True, punctuation_chars=True)
    lex.commenters = ""
    try:
        return list(lex)
    except ValueError:
        return ["("]  # unbalanced quotes: let bash say so


def _leading_assigns(words: list[str]) -> Iterator[str]:
    for word in words:
        if not _ASSIGN.match(word):
            return
        yield word


@contextlib.contextmanager
def _process_state(env: dict[str, str], cwd: Path) -> Iterator[tuple[io.StringIO, io.StringIO]]:
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(""), out, err
    try:
        yield out, err
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def run_autan(argv: list[str], env: dict[str, str], cwd: Path) -> Outcome:
    """``autan argv`` in this process, with ``env`` and ``cwd`` as its environment."""
    from autan.cli.app import main

    with _process_state(env, cwd) as (out, err):
        try:
            code = main(argv)
        except SystemExit as exc:  # a command that exits by itself
            code = exc.code if isinstance(exc.code, int) else 1
    return Outcome(code, out.getvalue(), err.getvalue())


def matches(expected: list[str], output: str) -> bool:
    """Whether the expected lines appear in order in ``output`` (``...`` matches anything)."""
    lines = output.splitlines()
    at = 0
    for want in expected:
        pattern = re.compile(".*".join(re.escape(p) for p in want.strip().split("...")))
        while at < len(lines) and not pattern.fullmatch(lines[at].strip()):
            at += 1
        if at == len(lines):
            return False
        at += 1
    return True


def failure(command: Command, outcome: Outcome) -> str | None:
    """Why ``outcome`` is not what the doc says ``command`` does; None when it is."""
    if outcome.code != command.exit_code:
        return (
            f"{command.where}: `{command.text}` exited {outcome.code}, "
            f"the doc says {command.exit_code}\n{outcome.out[-2000:]}{outcome.err[-2000:]}"
        )
    printed = outcome.out + outcome.err  # what the reader sees on the terminal
    if command.expect and not matches(command.expect, printed):
        want = "\n".join(command.expect)
        return f"{command.where}: `{command.text}` printed\n{printed}\nthe doc shows\n{want}"
    return None


_PAGE = b"""<!doctype html><html><head><title>Stand-in page</title></head><body><main>
<h1>Stand-in page</h1><p>This page stands in for the web in documented commands. Tidal power
turns the rise and fall of the sea into electricity.</p><a href="/next">next</a></main>
</body></html>
"""
_RESULTS = (
    b'{"results": [{"title": "Tidal power", "url": "https://example.org/tidal",'
    b' "content": "Tidal power turns the tides into electricity."}]}'
)
_WEB_ADDRESS = re.compile(r"https?://(?!127\.0\.0\.1[:/])[A-Za-z0-9.-]+(?::\d+)?")


class WebStandIn:
    """A loopback server answering every page, ``robots.txt`` and SearXNG's JSON search."""

    def __init__(self) -> None:
        from autan.tools.web.testing import LoopbackServer, Reply, Seen

        html = Reply(200, _PAGE, {"Content-Type": "text/html; charset=utf-8"})
        robots = Reply(200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"})
        search = Reply(200, _RESULTS, {"Content-Type": "application/json"})

        def route(seen: Seen) -> Reply:
            path = seen.path.split("?", 1)[0]
            return {"/robots.txt": robots, "/search": search}.get(path, html)

        self.server = LoopbackServer()
        self.server.reply_for = route  # type: ignore[method-assign]

    def env(self) -> dict[str, str]:
        """Settings that let the web tools reach this server, and only it, on loopback."""
        return {
            "AUTAN_WEB__TEST_ALLOW_LOOPBACK_PORTS": f"[{self.server.port}]",
            "AUTAN_WEB__SEARXNG_URL": self.server.origin,
        }

    def rewrite(self, line: str) -> str:
        """``line`` with every web address pointing at this server."""
        return _WEB_ADDRESS.sub(self.server.origin, line)

    def close(self) -> None:
        """Stop the server."""
        self.server.close()


def scratch_checkout(root: Path) -> Path:
    """A checkout to run commands in: ``examples/`` copied (commands write there), rest linked."""
    import shutil

    checkout = root / "checkout"
    checkout.mkdir()
    for entry in REPO.iterdir():
        if entry.name == "examples":
            shutil.copytree(
                entry, checkout / entry.name, ignore=shutil.ignore_patterns("__pycache__")
            )
        elif not entry.name.startswith(".") or entry.name == ".venv":
            (checkout / entry.name).symlink_to(entry)
    return checkout


def scratch_env(root: Path) -> dict[str, str]:
    """A reader's environment with a scratch home: no AUTAN_* or XDG settings of the developer."""
    keep = ("AUTAN_RETRIEVAL__MODEL_CACHE",)  # exported embedders, shared by the test run
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith(("AUTAN_", "XDG_")) or k == "OTEL_EXPORTER_OTLP_ENDPOINT") or k in keep
    }
    for name in ("home", "tmp"):
        (root / name).mkdir()
    bin_dir = str(Path(sys.executable).parent)
    env.update(HOME=str(root / "home"), TMPDIR=str(root / "tmp"))
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


class Reader:
    """Someone reading docs in order: one shell per document, one web stand-in for all."""

    def __init__(self, scratch: Callable[[str], Path]) -> None:
        self.scratch = scratch
        self.shells: dict[Path, Shell] = {}
        self.web: WebStandIn | None = None

    def shell(self, doc: Path) -> Shell:
        """The shell ``doc``'s commands run in, made on first use."""
        if doc not in self.shells:
            root = self.scratch(doc.stem)
            self.shells[doc] = Shell(scratch_checkout(root), scratch_env(root))
        return self.shells[doc]

    def run(self, command: Command) -> str | None:
        """Run one documented command in its document's shell; why it failed, or None."""
        shell = self.shell(command.doc)
        if command.content is not None:
            (shell.cwd / command.text).write_text(command.content, encoding="utf-8")
            return None
        text = command.text
        for placeholder, pattern in command.fill:
            text = shell.fill(text, placeholder, pattern)
        if command.loopback:
            self.web = self.web or WebStandIn()
            shell.env.update(self.web.env())
            text = self.web.rewrite(text)
        for step in command.setup:
            prepared = shell.bash(step, keep_state=False)
            if prepared.code != 0:
                return f"{command.where}: setup `{step}` failed: {prepared.err}"
        return failure(command, shell.run(text))

    def close(self) -> None:
        """Stop the web stand-in."""
        if self.web is not None:
            self.web.close()


def check_doc(doc: Path, scratch: Callable[[str], Path]) -> list[str]:
    """Run every command of ``doc`` that is not skipped; what went wrong (empty: all as said)."""
    reader = Reader(scratch)
    try:
        problems = [reader.run(c) for c in parse(doc) if not c.skip]
    finally:
        reader.close()
    return [p for p in problems if p is not None]

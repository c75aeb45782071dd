"""Every command of the ``autan`` app, fed malformed values, fails the way the README promises.

Commands and their options are discovered from the Typer app, so a new command is fuzzed the day
it lands. Each case sets one parameter to a malformed value (empty, control characters, a lone
surrogate as non-UTF-8 argv arrives, huge and negative numbers, missing paths, a directory, a
binary file, bad JSON or YAML, an unknown choice) with the other required ones given plausible
values. Seeded, so a failure reproduces by its test id.

What must hold (the CLI contract of docs/architecture.md and the README's exit codes):

- exit 0 (the value was in fact acceptable), 1 (runtime failure) or 2 (bad usage or input);
- no traceback and no "unexpected <Error>" (the CLI's fallback for a bug) in the output;
- a failure explains itself in one line: exactly one ``error:`` line on stderr, or, for
  ``tool run``, the tool contract's JSON with ``ok: false`` and an error message;
- that line names a fix: an option (``--k``), a command, or an instruction word
  (:data:`FIX_WORDS`).

No case reaches the network (name resolution and connections off loopback are refused for the
whole module) or the developer's data (HOME, TMPDIR and the data dir are scratch). Commands that
run until stopped are not fuzzed (:data:`NOT_FUZZED`, with the reason).
"""

from __future__ import annotations

import json
import random
import re
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from autan.cli.app import app, main

SEED = 18
NOT_FUZZED = {
    "serve": "runs a server until stopped (tests/server covers its options)",
    "mcp": "serves MCP until stopped (tests/mcp covers its options)",
    "chat": "an interactive loop at a terminal (tests/cli/test_ask_cli.py covers it)",
}
# Values that keep a command short and offline when the fuzzed parameter is another one.
BOUNDS: dict[str, list[str]] = {
    "eval injection": ["--suite", "slack", "--limit", "1"],
    "eval tools": ["--limit", "1"],
}
FILLERS: dict[str, dict[str, str]] = {
    "tool run": {"name": "calculator"},
    "eval tools": {"model": "scripted:builtin"},
    "eval guards": {"data": "{guards_jsonl}"},
    "eval retrieval": {"queries": "{queries_jsonl}"},
    "guard check": {"stage": "input", "text": "hello"},
    "ingest": {"paths": "{text_file}"},
    "run": {"flow": "{flow_yaml}"},
}
FIX_WORDS = (
    "see", "use", "try", "pass", "give", "add", "check", "set", "choose", "run", "fix",
    "create", "remove", "did you mean", "must", "expected", "one of", "install", "rerun",
)  # fmt: skip
TEXT_VALUES = ("", "   ", "\x01\x1b[2J\x7f", "caf\udce9", "x" * 2000, "-", "--")
INT_VALUES = ("-1", "0", "99999999999999999999999999", "abc", "1.5", "")
FLOAT_VALUES = ("-1", "nan", "inf", "1e999", "abc", "")
PATH_VALUES = ("{missing}", "{directory}", "{binary}", "{empty}", "{bad_json}", "{bad_yaml}")
JSON_VALUES = ("{bad", "[1]", "null", '{"a":', '{"expression": 5}')
CHOICE_VALUES = ("nope", "INPUT", "all,nope")
PATH_NAMES = re.compile(r"file|path|data|queries|policy|flow|out")
CHOICE_NAMES = re.compile(r"stage|decision|mode|layers|suite|category|choice|kind|attack")
CASES_PER_PARAM = 7
# The CLI's fallback for a bug ("error: unexpected KeyError: ..."); a parser's own wording
# inside a message that names the file and line ("found unexpected end of stream") is fine.
UNEXPECTED = re.compile(r"error: unexpected|unexpected [A-Z]\w*(Error|Exception)\b")
# Valid values that only make a command do more work: not fuzzed with the huge value.
SLOW_WHEN_VALID = {("eval injection", "limit"): "every task pair of a suite takes minutes"}


@dataclass(frozen=True)
class Case:
    """One fuzz case: a command, the parameter fuzzed and its malformed value."""

    command: str
    param: str
    argv: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.command}:{self.param}:{ascii(self.argv[-1])[:30]}"


def _commands() -> Iterator[tuple[str, Any]]:
    import typer.main

    def walk(command: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
        subs = getattr(command, "commands", None)
        if not subs:
            yield " ".join(path), command
            return
        for name, sub in sorted(subs.items()):
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


def _kind(param: Any) -> str:
    annotation = param.type_descriptor.annotation
    inner = getattr(annotation, "__args__", (annotation,))[0]
    if inner is bool:
        return "flag"
    if inner in (int, float):
        return inner.__name__
    if inner is Path or PATH_NAMES.search(param.name):
        return "path"
    if param.name == "args":
        return "json"
    return "choice" if CHOICE_NAMES.search(param.name) else "text"


def _values(kind: str, rng: random.Random) -> list[str]:
    special = {
        "int": INT_VALUES,
        "float": FLOAT_VALUES,
        "path": PATH_VALUES,
        "json": JSON_VALUES,
        "choice": CHOICE_VALUES,
    }.get(kind, ())
    common = rng.sample(TEXT_VALUES, k=max(2, CASES_PER_PARAM - len(special)))
    return list(dict.fromkeys([*special, *common]))


def _argv_for(command: str, params: list[Any], fuzzed: Any, value: str) -> list[str]:
    fillers = FILLERS.get(command, {})
    argv = command.split()
    for param in params:
        if param is fuzzed:
            continue
        filler = fillers.get(param.name)
        if filler is None and not param.required:
            continue
        filler = filler if filler is not None else ("1" if _kind(param) == "int" else "x")
        argv += [filler] if param.param_type_name == "argument" else [param.opts[0], filler]
    bounds = BOUNDS.get(command, [])
    for flag, bound in zip(bounds[::2], bounds[1::2], strict=True):
        if flag not in fuzzed.opts:
            argv += [flag, bound]
    opt = [] if fuzzed.param_type_name == "argument" else [fuzzed.opts[0]]
    return [*argv, "--", *opt, value] if not opt and value.startswith("-") else [*argv, *opt, value]


def cases() -> list[Case]:
    """Every fuzz case, in a fixed order."""
    rng = random.Random(SEED)
    found: list[Case] = []
    for command, click_command in _commands():
        if command.split()[0] in NOT_FUZZED:
            continue
        for param in click_command.params:
            kind = _kind(param)
            if kind == "flag":
                continue
            for value in _values(kind, rng):
                if (command, param.name) in SLOW_WHEN_VALID and value == INT_VALUES[2]:
                    continue
                argv = _argv_for(command, click_command.params, param, value)
                found.append(Case(command, param.name, tuple(argv)))
    return found


CASES = cases()


class _CaseTimeout(BaseException):
    """Raised in the main thread when a case runs too long (not an Exception: main can't eat it)."""


CASE_TIMEOUT_S = 20


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """Fresh scratch files for the placeholders of :data:`PATH_VALUES` and :data:`FILLERS`."""
    root = tmp_path / "files"
    root.mkdir()
    made = {
        "missing": root / "no-such-file.txt",
        "directory": root / "a-directory",
        "binary": root / "binary.bin",
        "empty": root / "empty.txt",
        "bad_json": root / "bad.jsonl",
        "bad_yaml": root / "bad.yaml",
        "text_file": root / "notes.md",
        "guards_jsonl": root / "guards.jsonl",
        "queries_jsonl": root / "queries.jsonl",
        "flow_yaml": root / "flow.yaml",
    }
    made["directory"].mkdir()
    made["binary"].write_bytes(bytes(range(256)) * 4)
    made["empty"].write_text("")
    made["bad_json"].write_text('{"text": "unterminated\n[1, 2\n')
    made["bad_yaml"].write_text("steps: [\n  - id: {unclosed\n")
    made["text_file"].write_text("# Notes\n\nAttention costs grow with the square of length.\n")
    made["guards_jsonl"].write_text(json.dumps({"text": "hello there", "label": 0}) + "\n")
    made["queries_jsonl"].write_text(
        json.dumps({"query": "attention", "gold": [{"source": "notes.md", "phrase": "square"}]})
        + "\n"
    )
    made["flow_yaml"].write_text(
        "name: one\nsteps:\n  - id: total\n    tool: calculator\n    args: {expression: '6*7'}\n"
    )
    return {name: str(path) for name, path in made.items()}


@pytest.fixture(autouse=True)
def _offline_and_scratch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No name resolution or connection off loopback; HOME and TMPDIR are scratch."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
    local = {"localhost", "127.0.0.1", "::1"}

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in local and host is not None:
            raise socket.gaierror(socket.EAI_NONAME, f"fuzz: no network ({host})")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in local:
            raise OSError(f"fuzz: no network ({address[0]})")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    for name in ("home", "tmp"):
        (tmp_path / name).mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(""))
    yield


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    def expire(signum: int, frame: Any) -> None:
        raise _CaseTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(CASE_TIMEOUT_S)
    try:
        code = main(argv)
    except _CaseTimeout:
        pytest.fail(f"autan {' '.join(argv)[:200]} ran over {CASE_TIMEOUT_S} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    out, err = capsys.readouterr()
    return code, out, err


def explains_itself(out: str, err: str) -> str | None:
    """The one line that explains a failure, or None when there is not exactly one."""
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    others = [line for line in err.splitlines() if line.strip() and not line.startswith(
        ("error: ", "warning: "))]  # fmt: skip
    if len(errors) == 1 and not others:
        return errors[0]
    if not err.strip() and out.strip():
        try:
            result = json.loads(out)
        except ValueError:
            return None
        if isinstance(result, dict) and result.get("ok") is False and result.get("error"):
            return str(result["error"].get("message"))
    return None


def names_a_fix(line: str) -> bool:
    """Whether an error line tells the user what to do."""
    lowered = line.lower()
    if re.search(r"(^|[\s'\"(])--?\w", line) or "autan " in line:
        return True  # an option to change, or a command to run
    return any(re.search(rf"\b{re.escape(w)}\b", lowered) for w in FIX_WORDS)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_value_gets_a_clear_answer(
    case: Case, files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [a.format(**files) if a.startswith("{") and a.endswith("}") and a[1:-1] in files
            else a for a in case.argv]  # fmt: skip
    code, out, err = _run(argv, capsys)
    shown = f"autan {' '.join(argv)[:200]!r} -> {code}\n{out[-1500:]}{err[-1500:]}"
    assert "Traceback" not in out + err, shown
    assert not UNEXPECTED.search(out + err), shown
    assert code in (0, 1, 2), shown
    if code == 0:
        return
    line = explains_itself(out, err)
    assert line is not None, f"not one error line: {shown}"
    assert names_a_fix(line), f"the error names no fix: {shown}"


def test_every_command_is_fuzzed_or_skipped_with_a_reason() -> None:
    commands = {name for name, _ in _commands()}
    fuzzed = {c.command for c in CASES}
    assert {c for c in commands if c.split()[0] not in NOT_FUZZED} - fuzzed <= {
        c for c, cmd in _commands() if all(_kind(p) == "flag" for p in cmd.params)
    }
    assert len(CASES) >= 300


def test_the_criterion_separates_helpful_from_unhelpful_errors() -> None:
    assert names_a_fix("error: --args is not valid JSON (pass a JSON object)")
    assert names_a_fix("error: no such tool 'calculater'; did you mean calculator?")
    assert not names_a_fix("error: something went wrong")
    assert explains_itself("", "warning: x\nerror: bad --k\n") == "error: bad --k"
    assert explains_itself("", "error: a\nerror: b\n") is None
    assert explains_itself('{"ok": false, "error": {"message": "m"}}', "") == "m"

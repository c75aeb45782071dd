"""Code-safety rail: a static AST check of planner-written code before the sandbox runs it.

It flags intent, not syntax errors: network access, subprocesses and shells, deleting files
outside the scratch directory, and obfuscated execution (exec/eval of decoded or built strings).
Text that does not parse as Python is checked as a shell command line.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autan.guards.base import RailSpec, Stage, Verdict

_NETWORK_MODULES = {
    "socket",
    "urllib",
    "http",
    "requests",
    "httpx",
    "aiohttp",
    "ftplib",
    "smtplib",
    "telnetlib",
    "paramiko",
    "websocket",
    "websockets",
    "urllib3",
}
_PROCESS_MODULES = {"subprocess", "pty", "multiprocessing"}
_PROCESS_CALLS = {
    "system",
    "popen",
    "spawnl",
    "spawnv",
    "execv",
    "execve",
    "execl",
    "fork",
    "run",
    "call",
    "check_call",
    "check_output",
    "Popen",
    "getoutput",
}
_DELETE_CALLS = {"remove", "unlink", "rmdir", "rmtree", "removedirs", "truncate"}
_DECODERS = {
    "b64decode",
    "b32decode",
    "a85decode",
    "decode",
    "fromhex",
    "unhexlify",
    "decompress",
    "loads",
    "join",
    "chr",
    "bytes",
    "reversed",
}
_SHELL = re.compile(
    r"\b(?:curl|wget|nc|ncat|netcat|ssh|scp|telnet)\b|\brm\s+-[a-z]*[rf]|\bmkfs\b|\bdd\s+if="
    r"|>\s*/dev/sd|\bchmod\s+777\s+/|:\(\)\s*\{|\|\s*(?:ba|z)?sh\b|\bsudo\b"
)
SCRATCH = ("/tmp", "/scratch", "/workspace", "./", "scratch/", "tmp/", "out/")


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def _const_path(call: ast.Call) -> str | None:
    arg = call.args[0] if call.args else None
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None


def _in_scratch(path: str | None) -> bool:
    if path is None:
        return False
    return not path.startswith(("/", "~", "..")) or path.startswith(SCRATCH)


class _Finder(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: dict[str, float] = {}

    def flag(self, reason: str, score: float) -> None:
        self.found[reason] = max(score, self.found.get(reason, 0.0))

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        names = [a.name for a in node.names]
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        roots = {n.split(".")[0] for n in names}
        if roots & _NETWORK_MODULES:
            self.flag("network access", 0.9)
        if roots & _PROCESS_MODULES:
            self.flag("subprocess or shell", 0.9)
        self.generic_visit(node)

    visit_ImportFrom = visit_Import  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        full = _name(node.func)
        last = full.rsplit(".", 1)[-1]
        if full.startswith(("os.", "subprocess.", "pty.")) and last in _PROCESS_CALLS:
            self.flag("subprocess or shell", 0.9)
        if last in _DELETE_CALLS and not _in_scratch(_const_path(node)):
            self.flag("deletes files outside the scratch directory", 0.9)
        if last in {"exec", "eval", "compile", "__import__"} and node.args:
            inner = node.args[0]
            if not isinstance(inner, ast.Constant):
                decoded = any(_name(n).rsplit(".", 1)[-1] in _DECODERS for n in ast.walk(inner))
                self.flag("obfuscated exec of built or decoded code", 0.95 if decoded else 0.7)
        if last == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
            self.flag("obfuscated exec of built or decoded code", 0.9)
        if last in {"import_module", "__import__"} and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and str(arg.value).split(".")[0] in _NETWORK_MODULES:
                self.flag("network access", 0.9)
        self.generic_visit(node)


def analyse(code: str) -> dict[str, float]:
    """Reason -> score for everything dangerous the code (or shell line) intends."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return {"dangerous shell command": 0.9} if _SHELL.search(code) else {}
    finder = _Finder()
    finder.visit(tree)
    return finder.found


@dataclass
class CodeSafetyRail:
    """Static intent check of code; ``escalate`` asks a human, ``block`` refuses."""

    spec: RailSpec = field(default_factory=lambda: RailSpec("escalate", 0.5))
    name: str = "code_safety"

    def check(self, text: str, stage: Stage, ctx: Mapping[str, Any]) -> Verdict:
        """Judge ``text`` as code; never raises on content."""
        found = analyse(text)
        score = max(found.values(), default=0.0)
        return self.spec.decide(self.name, text, score, sorted(found))

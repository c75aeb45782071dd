"""Imports point down only: the agent graph and the parts below it never import the layers above.

Every import is read from the source (including lazy imports inside functions), so a module that
reaches up the stack at call time is caught as well as one that does so at import time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import autan

ROOT = Path(__file__).resolve().parents[1]

# package folder -> import name, as pyproject's package-dir maps them
LOWER = {
    "graphs": "autan.graphs",
    "tools": "autan.tools",
    "agents": "autan.agents",
    "guards": "autan.guards",
    "memory": "autan.memory",
}
ABOVE_GRAPHS = ("autan.api", "autan.automations", "autan.cli", "autan.server")


def _imports(path: Path, package: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module) for every import in the file, names from ``autan`` resolved."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base]) if base else ".".join(parts)
            yield node.lineno, base
            if base == "autan":  # ``from autan import Agent`` reaches autan.api lazily
                for alias in node.names:
                    yield node.lineno, autan._EXPORTS.get(alias.name, f"autan.{alias.name}")


def _violations(folder: Path, package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*.py")):
        rel = path.relative_to(folder).with_suffix("")
        module = ".".join([package, *rel.parts])
        for line, name in _imports(path, module.removesuffix(".__init__")):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{folder.name}/{rel.as_posix()}.py:{line} imports {name}")
    return found


@pytest.mark.parametrize("folder", sorted(LOWER))
def test_the_agent_graph_and_below_never_import_upward(folder: str) -> None:
    assert _violations(ROOT / folder, LOWER[folder], ABOVE_GRAPHS) == []


def test_automations_sit_above_the_api_and_below_the_cli() -> None:
    folder = ROOT / "autan" / "automations"
    assert _violations(folder, "autan.automations", ("autan.cli", "autan.server")) == []
    imported = {name for path in folder.glob("*.py") for _, name in _imports(path, "autan.x")}
    assert "autan.api" in imported  # the agent step builds an Agent: the engine is above the api


def test_the_api_does_not_import_the_automations() -> None:
    names = {name for _, name in _imports(ROOT / "autan" / "api.py", "autan")}
    assert not {n for n in names if n.startswith(("autan.automations", "autan.cli"))}


def test_the_check_sees_a_lazy_upward_import(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def f():\n    from autan import Agent\n    return Agent\n")
    assert _violations(tmp_path, "autan.graphs", ABOVE_GRAPHS) == [
        f"{tmp_path.name}/bad.py:2 imports autan.api"
    ]

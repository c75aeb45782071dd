"""Workspace mode: a copy of the host folder; changes come back as diffs, the host is untouched."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest

from autan.errors import UserInputError
from autan.tools.sandbox.workspace import pack
from tests.sandbox.helpers import executor


def project(root: Path) -> Path:
    """A tiny project with a unittest that passes."""
    (root / "pkg").mkdir()
    (root / "pkg" / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "test_calc.py").write_text(
        "import unittest\nfrom pkg.calc import add\n\n"
        "class T(unittest.TestCase):\n"
        "    def test_add(self):\n        self.assertEqual(add(2, 2), 4)\n"
    )
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("secret-ish")
    return root


def test_changes_return_as_diffs_and_the_host_copy_is_untouched(workspace: Path) -> None:
    project(workspace)
    with executor().session(workspace) as session:
        listed = session.command("ls -a; python3 -m unittest -q 2>&1 | tail -1")
        edit = session.run(
            "p = 'pkg/calc.py'\nsrc = open(p).read()\nopen(p, 'w').write(src.replace('+', '-'))"
        )
        failing = session.command("python3 -m unittest -q")
    assert ".git" not in listed.stdout.split() and "OK" in listed.stdout
    assert edit.ok and [f["path"] for f in edit.files] == ["pkg/calc.py"]
    diff = edit.files[0]["diff"]
    assert "-    return a + b" in diff and "+    return a - b" in diff
    assert not failing.ok and "FAILED" in failing.stderr
    assert "a + b" in (workspace / "pkg" / "calc.py").read_text()


def test_pytest_runs_when_its_packages_are_bound(workspace: Path) -> None:
    project(workspace)
    site = next(p for p in sys.path if p.endswith("site-packages"))
    box = executor(python_paths=[site])
    with box.session(workspace) as session:
        result = session.command(
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -m pytest -q -p no:cacheprovider 2>&1"
        )
    assert "1 passed" in result.stdout


def test_oversized_workspaces_are_refused(workspace: Path) -> None:
    (workspace / "big.bin").write_bytes(b"0" * (2 << 20))
    with pytest.raises(UserInputError, match="more than 1 MB"):
        pack(workspace, 1)


def test_packages_under_the_hosts_tmp_are_visible(workspace: Path) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:  # many virtualenvs live under /tmp
        packages = Path(tmp)
        packages.chmod(0o755)
        (packages / "autan_probe_mod.py").write_text("ANSWER = 42\n", encoding="utf-8")
        with executor(python_paths=[packages]).session(workspace) as session:
            result = session.run("import autan_probe_mod\nprint(autan_probe_mod.ANSWER)")
    assert result.ok and result.stdout.strip() == "42"

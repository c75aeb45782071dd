"""Workspace mode: a copy of the host folder; changes come back as diffs, the host is untouched."""

from __future__ import annotations

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
    site = Path(pytest.__file__).parent.parent  # where pytest is installed
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


def _venv_with_pytest(root: Path) -> Path:
    """A real virtualenv in ``root/.venv`` holding a copy of the installed pytest (offline)."""
    import importlib
    import shutil
    import subprocess

    venv = root / ".venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python3*")) / "site-packages"
    for name in ("pytest", "_pytest", "pluggy", "iniconfig", "packaging", "pygments", "py"):
        source = Path(importlib.import_module(name).__file__ or "")
        if source.name == "__init__.py":
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(source.parent, site / name, ignore=ignore)
        else:
            shutil.copy(source, site / source.name)
    script = venv / "bin" / "pytest"
    script.write_text(f"#!{venv}/bin/python\nimport sys\nfrom pytest import console_main\n"
                      "sys.exit(console_main())\n")  # fmt: skip
    script.chmod(0o755)
    return venv


@pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="needs /usr/bin/python3")
def test_run_command_runs_pytest_from_the_workspace_virtualenv_read_only() -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:  # the sandbox user must reach the venv
        root = Path(tmp)
        root.chmod(0o755)
        project(root)
        (root / "test_more.py").write_text("def test_sum():\n    assert sum([1, 2]) == 3\n")
        venv = _venv_with_pytest(root)
        with executor().session(root) as session:
            tests = session.command("pytest -q -p no:cacheprovider 2>&1 | tail -1; pytest -q")
            write = session.command(f"touch {venv}/bin/planted")
    assert tests.ok, tests.to_dict()
    assert "2 passed" in tests.stdout
    assert not write.ok and not (venv / "bin" / "planted").exists()
    assert [f["path"] for f in tests.files] == [], tests.files  # caches are not changes


def test_without_a_workspace_virtualenv_pytest_is_not_on_path(workspace: Path) -> None:
    project(workspace)
    with executor().session(workspace) as session:
        result = session.command("command -v pytest || echo none")
    assert result.stdout.strip() == "none"

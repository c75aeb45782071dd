"""Every autan warning reaches the CLI's stderr as one ``warning:`` line, once; libraries keep
the standard ``warnings`` and ``logging`` behaviour."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autan.cli.app import main
from autan.config import load_settings
from autan.settings_check import SettingsWarning

SETTINGS_LINE = (
    "warning: unknown setting AUTAN_PLANER__MAX_STEPS is ignored; "
    "did you mean AUTAN_PLANNER__MAX_STEPS?"
)
RUNTIME_LINE = "warning: tool 'nope' cannot be loaded from no_such_mod:fn"
# A root handler, as some libraries install, must not print autan's warnings a second time.
PROBE = (
    "import logging, sys; logging.basicConfig(); from autan.cli.app import main; sys.exit(main())"
)


def test_a_settings_and_a_runtime_warning_each_print_one_line(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AUTAN_")},
        "AUTAN_DATA_DIR": str(tmp_path / "data"),
        "AUTAN_PLANER__MAX_STEPS": "3",
        "AUTAN_TOOLS__CUSTOM": '{"nope": "no_such_mod:fn"}',
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "ask", "What is 6 times 7?"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines.count(SETTINGS_LINE) == 1
    assert [line for line in lines if line.startswith(RUNTIME_LINE)] == [
        f"{RUNTIME_LINE}: ModuleNotFoundError: No module named 'no_such_mod' — fix the module or "
        "remove the tool from [tools.custom] in autan.toml (skipped)"
    ]
    assert sum("AUTAN_PLANER__MAX_STEPS" in line for line in lines) == 1, lines
    assert sum("no_such_mod" in line for line in lines) == 1, lines


def test_after_a_cli_run_library_users_get_standard_warnings_and_logs(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("AUTAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AUTAN_PLANER__MAX_STEPS", "3")
    assert main(["guard", "check", "--stage", "input", "--text", "hello"]) == 0
    assert capsys.readouterr().err.splitlines() == [SETTINGS_LINE]
    with pytest.warns(SettingsWarning, match="AUTAN_PLANER__MAX_STEPS"):
        load_settings()
    with caplog.at_level(logging.WARNING, logger="autan"):
        logging.getLogger("autan.tools").warning("a library warning")
    assert [r.getMessage() for r in caplog.records] == ["a library warning"]
    assert "warning: a library warning" not in capsys.readouterr().err

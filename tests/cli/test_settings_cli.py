"""Settings are checked up front: unknown names warn, a bad config source is one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from autan.cli.app import main

CHECK = ["guard", "check", "--stage", "input", "--text", "hello"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_misspelt_variable_warns_with_the_closest_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTAN_PLANER__MAX_STEPS", "3")
    code, out, err = run(capsys, *CHECK)
    assert code == 0 and '"allowed": true' in out
    assert err.startswith("warning: unknown setting AUTAN_PLANER__MAX_STEPS is ignored")
    assert "did you mean AUTAN_PLANNER__MAX_STEPS?" in err


def test_a_misspelt_config_key_warns_with_the_closest_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "autan.toml"
    config.write_text("[planner]\nmax_step = 3\n[sandbox]\ntimeout_s = 4\n")
    monkeypatch.setenv("AUTAN_CONFIG", str(config))
    code, _, err = run(capsys, *CHECK)
    assert code == 0
    assert f"{config}: unknown key planner.max_step is ignored" in err
    assert "did you mean planner.max_steps?" in err
    assert "sandbox" not in err


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"AUTAN_CONFIG": "{tmp}/missing.toml"}, "config file not found: {tmp}/missing.toml"),
        ({"AUTAN_CONFIG": "{tmp}/bad.toml"}, "{tmp}/bad.toml is not valid TOML"),
        ({"AUTAN_REQUIRES_APPROVAL": "python"}, "AUTAN_REQUIRES_APPROVAL is not valid JSON"),
        ({"AUTAN_DATA_DIR": "{tmp}/bad.toml"}, "unusable data directory {tmp}/bad.toml"),
    ],
)
def test_a_bad_settings_source_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    env: dict[str, str],
    expected: str,
) -> None:
    (tmp_path / "bad.toml").write_text("name: not toml\n")
    for key, value in env.items():
        monkeypatch.setenv(key, value.format(tmp=tmp_path))
    code, out, err = run(capsys, *CHECK)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert expected.format(tmp=tmp_path) in lines[0] and " — " in lines[0]

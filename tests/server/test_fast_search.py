"""``autan search`` through a server on the start-up fast path: same output, same errors.

The CLI runs as a real subprocess against a real server on 127.0.0.1. The full path is forced by
one more (harmless) ``AUTAN_*`` variable, which the fast path leaves to pydantic to validate.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from autan.cli.fast import parse_search, server_target
from autan.errors import ConfigError
from autan.server.records import Records
from tests.server.conftest import server_settings
from tests.server.live import LiveServer, free_port

# Runs the CLI's own entry point, then reports on stderr which libraries it had to import.
PROBE = (
    "import sys; from autan.cli.app import main; code = main(sys.argv[1:]); "
    "sys.stderr.write('loaded: ' + ','.join(m for m in ('typer', 'pydantic', 'httpx') "
    "if m in sys.modules) + '\\n'); sys.exit(code)"
)
FULL = {"AUTAN_MEMORY__USER": "default"}  # a valid setting the fast path does not read


def cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``autan ARGS`` in a clean environment: no AUTAN_* variable but those given."""
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith("AUTAN_")}
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args], env={**base, **env}, cwd=cwd,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if not line.startswith("loaded: ")]


@pytest.fixture
def served(tmp_path: Path, model: Any) -> Any:
    docs = tmp_path / "notes"
    docs.mkdir()
    (docs / "zebra.md").write_text("# Zebras\n\nA zebra is a striped horse.\n", encoding="utf-8")
    (docs / "okapi.md").write_text("# Okapi\n\nThe okapi is a striped giraffe.\n", "utf-8")
    with LiveServer(server_settings(tmp_path), model) as srv:
        client = srv.client()
        assert client.post("/v1/ingest", json={"paths": [str(docs)]}).status_code == 200
        yield srv


def test_fast_path_prints_what_the_full_cli_prints(served: Any, tmp_path: Path) -> None:
    env = {"AUTAN_SERVER_URL": served.url, "AUTAN_DATA_DIR": str(tmp_path / "cli")}
    for args in (["search", "striped horse"], ["search", "striped", "--json", "-k", "1"],
                 ["search", "--mode=bm25", "okapi", "--filter", "tag=none", "--json"]):  # fmt: skip
        fast = cli(args, tmp_path, **env)
        full = cli(args, tmp_path, **env, **FULL)
        assert fast.returncode == full.returncode == 0, (fast.stderr, full.stderr)
        assert fast.stdout == full.stdout and fast.stdout
        assert "loaded: \n" in fast.stderr  # no typer, pydantic or httpx on the fast path
        assert "typer" in full.stderr
    assert "[1]" in fast.stdout or json.loads(fast.stdout)["citations"] == []
    hit = json.loads(cli(["search", "striped", "--json", "-k", "1"], tmp_path, **env).stdout)
    assert hit["citations"][0]["source"].endswith(".md") and len(hit["citations"]) == 1


def test_fast_path_finds_a_server_by_its_data_dir(tmp_path: Path, model: Any) -> None:
    settings = server_settings(tmp_path)
    from autan.server.client import announce

    with LiveServer(settings, model) as srv:
        announce(settings.data_dir, srv.url)
        found = cli(["search", "anything"], tmp_path, AUTAN_DATA_DIR=str(settings.data_dir))
    assert found.returncode == 2 and "loaded: \n" in found.stderr  # answered by that server:
    assert errors(found) == [
        "error: server: no collection 'docs' — run 'autan ingest PATH' or 'autan collections list'"
    ]


def test_errors_are_one_line_with_the_documented_exit_codes(served: Any, tmp_path: Path) -> None:
    env = {"AUTAN_SERVER_URL": served.url, "AUTAN_DATA_DIR": str(tmp_path / "cli")}
    down = {**env, "AUTAN_SERVER_URL": f"http://127.0.0.1:{free_port()}"}
    cases = [
        (["search", "  "], env, 2, "the query is empty"),
        (["search", "x", "--filter", "colour=red"], env, 2, "unknown --filter key 'colour'"),
        (["search", "x", "-k", "0"], env, 2, "server: bad request body: k"),
        (["search", "x", "--mode", "fuzzy"], env, 2, "server: bad request body: mode"),
        (["search", "x"], down, 1, "cannot reach the autan server"),
        (["search", "x"], {**env, "AUTAN_SERVER_URL": "127.0.0.1:8700"}, 2, "not an http://"),
        (["search", "x", "-k", "many"], env, 2, "Invalid value for '-k'"),
    ]
    for args, environ, code, words in cases:
        fast = cli(args, tmp_path, **environ)
        full = cli(args, tmp_path, **environ, **FULL)
        for result in (fast, full):
            assert result.returncode == code, (args, result.stderr)
            (line,) = errors(result)
            assert line.startswith("error: ") and words in line, line
        assert errors(fast) == errors(full)


def test_a_keyed_server_refuses_without_the_key(tmp_path: Path, model: Any) -> None:
    settings = server_settings(tmp_path, server={"require_keys": True})
    records = Records(settings.data_dir)
    key = records.create_key("cli")[1]
    records.close()
    with LiveServer(settings, model) as srv:
        env = {"AUTAN_SERVER_URL": srv.url, "AUTAN_DATA_DIR": str(tmp_path / "cli")}
        refused = cli(["search", "quokka"], tmp_path, **env)
        allowed = cli(["search", "quokka", "--json"], tmp_path, **env, AUTAN_API_KEY=key)
    assert refused.returncode == 2 and "AUTAN_API_KEY" in errors(refused)[0]
    assert allowed.returncode == 2  # the key was taken: the key's own collection is still empty
    assert "no collection" in errors(allowed)[0] and "docs" in errors(allowed)[0]


def test_the_parser_takes_plain_searches_and_leaves_the_rest() -> None:
    parsed = parse_search(["q", "-c", "notes", "-k3", "--filter", "tag=a", "--filter=tag=b",
                           "--mode=dense", "--json"])  # fmt: skip
    assert parsed is not None
    assert (parsed.query, parsed.collection, parsed.k, parsed.filters, parsed.mode) == (
        "q", "notes", 3, ["tag=a", "tag=b"], "dense"
    )  # fmt: skip
    assert parsed.json_out
    assert parse_search(["--", "-leading dash"]) is not None
    odd_ones = [["q", "--help"], [], ["a", "b"], ["q", "-k"], ["q", "-k", "-1"], ["q", "--coll=a"]]
    odd_ones += [["q", "-c", "a", "-c", "b"], ["q", "--collection", "--json"]]
    for odd in odd_ones:
        assert parse_search(odd) is None, odd


def test_settings_beyond_the_environment_go_to_the_full_cli(
    tmp_path: Path, monkeypatch: Any
) -> None:
    url = {"AUTAN_SERVER_URL": "http://127.0.0.1:9"}
    monkeypatch.chdir(tmp_path)
    assert server_target(url) == ("http://127.0.0.1:9", None)
    assert server_target({**url, "AUTAN_RETRIEVAL__K": "3"}) is None
    assert server_target({**url, "autan_server_url": "x"}) is None
    assert server_target({**url, "AUTAN_CONFIG": "x.toml"}) is None
    assert server_target({**url, "AUTAN_DATA_DIR": ""}) is None
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="unusable data directory"):
        server_target({**url, "AUTAN_DATA_DIR": str(tmp_path / "file")})
    (tmp_path / "autan.toml").write_text("")
    assert server_target(url) is None

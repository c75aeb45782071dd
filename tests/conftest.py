"""Fixtures shared by every test: offline, isolated settings, no user config leaking in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# No test may reach a model hub: weights come from packages or are built in the test.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of exported embedders for the whole run (an export takes seconds)."""
    return tmp_path_factory.mktemp("model-cache")


TEST_SWITCHES = ("AUTAN_QDRANT_URL", "AUTAN_STANDARD_FULL")


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, model_cache: Path
) -> Iterator[None]:
    """Each test gets its own data dir and no AUTAN_* settings from the developer's shell.

    Switches of the test run itself (a Qdrant server to test against, the full standard suites)
    are kept.
    """
    for key in list(os.environ):
        if key.startswith("AUTAN_") and key not in TEST_SWITCHES:
            monkeypatch.delenv(key, raising=False)
    home = tmp_path_factory.mktemp("autan-data")
    monkeypatch.setenv("AUTAN_DATA_DIR", str(home))
    (home / "autan.toml").write_text("")  # AUTAN_CONFIG must name a file that exists
    monkeypatch.setenv("AUTAN_CONFIG", str(home / "autan.toml"))
    monkeypatch.setenv("AUTAN_RETRIEVAL__MODEL_CACHE", str(model_cache))
    yield


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace directory."""
    ws = tmp_path / "workspace"
    ws.mkdir()
    return ws


@pytest.fixture
def settings(workspace: Path):  # type: ignore[no-untyped-def]
    """Settings pointing at the test's own data dir and workspace."""
    from autan.config import load_settings

    return load_settings(workspace=workspace)


# The ecosystem's standard suites (langchain-tests, langgraph-checkpoint-conformance) are counted
# apart so the summary says how many of them ran; see docs/standard-tests.md.
_STANDARD: dict[str, int] = {}
_CHECKS: dict[str, int] = {}


def _is_standard(item: pytest.Item) -> bool:
    if item.get_closest_marker("standard_suite") is not None:
        return True
    try:
        from langchain_tests.base import BaseStandardTests
    except ImportError:
        return False
    cls = getattr(item, "cls", None)
    return cls is not None and issubclass(cls, BaseStandardTests)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "standard_suite: a test from an ecosystem standard suite")
    if hasattr(config.option, "benchmark_disable"):
        config.option.benchmark_disable = True  # run the suites' timing tests once, untimed


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _is_standard(item):
            item.add_marker("standard_suite")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "standard_suite" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
        if hasattr(report, "wasxfail") and report.passed:
            outcome = "xpassed"
        _STANDARD[outcome] = _STANDARD.get(outcome, 0) + 1
    for key, value in report.user_properties:  # a suite run as one test reports its checks
        if key == "standard_checks" and report.when == "call":
            _CHECKS["checks"] = _CHECKS.get("checks", 0) + int(value)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _STANDARD:
        parts = ", ".join(f"{n} {k}" for k, n in sorted(_STANDARD.items()))
        total = sum(_STANDARD.values())
        inner = f"; checkpoint conformance checks passed: {_CHECKS['checks']}" if _CHECKS else ""
        terminalreporter.write_line(f"standard suites: {total} standard tests run ({parts}){inner}")

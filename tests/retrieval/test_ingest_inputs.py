"""``autan ingest`` on bad input: one-line errors with exit 2, never a read outside the path."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from autan.cli.app import main


@pytest.fixture(autouse=True)
def _hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTAN_RETRIEVAL__EMBEDDER", "hashing")


def make_socket(path: Path) -> Path:
    """A Unix socket file (it stays on disk after the socket is closed)."""
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_empty_path_is_refused_not_the_current_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "here.md").write_text("# Here\n\nthis folder must not be indexed\n")
    monkeypatch.chdir(tmp_path)
    for args in (("",), ("  ",), (str(tmp_path / "here.md"), "")):
        code, out, err = run(capsys, "ingest", *args, "--json")
        assert code == 2 and "empty path" in err and err.count("\n") == 1, (args, err)
        assert out == ""
    code, out, _ = run(capsys, "collections", "list", "--json")
    assert json.loads(out)["collections"] == []


def test_special_roots_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    unix_socket = make_socket(tmp_path / "s.sock")
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    (tmp_path / "loop1.md").symlink_to(tmp_path / "loop2.md")
    (tmp_path / "loop2.md").symlink_to(tmp_path / "loop1.md")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n")
    cases = {
        str(fifo): "a FIFO",
        str(unix_socket): "a socket",
        str(tmp_path / "loop1.md"): "symlink loop",
        str(tmp_path / "image.png"): "unsupported file type",
        str(tmp_path / "missing.md"): "no such file",
    }
    for path, words in cases.items():
        code, _, err = run(capsys, "ingest", path)  # a FIFO read would block: it is never opened
        assert code == 2 and words in err and err.count("\n") == 1, (path, err)
        assert "Traceback" not in err


def test_bad_entries_inside_a_folder_are_skipped_and_nothing_outside_is_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nthe launch code is zebra-umbrella-42\n")
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "good.md").write_text("# Good\n\nreading files line by line with a for loop\n")
    (docs / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (docs / "empty.md").write_text("")
    os.mkfifo(docs / "pipe.txt")
    make_socket(docs / "sock.md")
    (docs / "loop1.md").symlink_to(docs / "loop2.md")
    (docs / "loop2.md").symlink_to(docs / "loop1.md")
    (docs / "leak.md").symlink_to(outside / "secret.md")
    (docs / "sub" / "up").symlink_to(outside, target_is_directory=True)
    (docs / "inside.md").symlink_to(docs / "good.md")
    code, out, _ = run(capsys, "ingest", str(docs), "--json")
    report = json.loads(out)
    assert code == 0, report
    reasons = {Path(s["path"]).name: s["reason"] for s in report["skipped"]}
    assert "FIFO" in reasons["pipe.txt"] and "socket" in reasons["sock.md"]
    assert "symlink loop" in reasons["loop1.md"] and "symlink loop" in reasons["loop2.md"]
    assert "outside" in reasons["leak.md"]
    assert "binary.txt" in reasons and "empty.md" in reasons
    assert report["files_indexed"] == 2  # good.md and the link to it inside the folder
    code, out, _ = run(capsys, "search", "launch code zebra umbrella", "--json", "-k", "10")
    assert code == 0
    assert all("zebra" not in c["text"] for c in json.loads(out)["citations"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_root_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    locked = tmp_path / "locked.md"
    locked.write_text("# Locked\n\ntext\n")
    locked.chmod(0)
    code, _, err = run(capsys, "ingest", str(locked))
    assert code == 2 and "not readable" in err and err.count("\n") == 1

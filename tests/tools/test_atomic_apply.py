"""Applying edits survives SIGKILL at any moment: every file is old or new, never half-written.

A forked child makes one edit, then applies edits to many files in a loop through the real
write_file and apply_diff tools; the parent kills it with SIGKILL at random moments, then checks
every file.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path
from typing import Any

from autan.tools.registry import ToolRegistry

FILES = 12
KILLS = 20
OLD = "old line\n" * 40_000
NEW = "new line\n" * 40_000


def _child(settings: Any, ready: int) -> None:
    tools = ToolRegistry.builtin(settings, ["write_file", "apply_diff"])
    assert tools.run("write_file", {"path": "f0.txt", "content": NEW})["ok"]
    os.write(ready, b"1")
    os.close(ready)
    rng = random.Random(os.getpid())
    while True:
        name = f"f{rng.randrange(1, FILES)}.txt"
        if rng.random() < 0.5:
            content = rng.choice([OLD, NEW])
            tools.run("write_file", {"path": name, "content": content})
        else:
            shown = tools.run("write_file", {"path": name, "content": OLD, "dry_run": True})
            if shown["diff"]:
                tools.run("apply_diff", {"diff": shown["diff"], "base": shown["base"]})


def _kill_once(settings: Any, rng: random.Random) -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        try:
            os.close(read)
            _child(settings, write)
        finally:
            os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.close(read)
    time.sleep(rng.uniform(0.0, 0.25))
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def test_every_file_is_old_or_new_after_repeated_sigkills(settings: Any, workspace: Path) -> None:
    for i in range(FILES):
        (workspace / f"f{i}.txt").write_text(OLD, encoding="utf-8")
    rng = random.Random(20)
    seen: set[str] = set()
    for _ in range(KILLS):
        _kill_once(settings, rng)
        for i in range(FILES):
            text = (workspace / f"f{i}.txt").read_text(encoding="utf-8")
            assert text in (OLD, NEW), f"f{i}.txt is half-written ({len(text)} chars)"
            seen.add(text[:3])
    assert "new" in seen  # the children really applied edits before they were killed
    listed = ToolRegistry.builtin(settings, ["list_files"]).run("list_files", {})["files"]
    assert listed == sorted(f"f{i}.txt" for i in range(FILES))  # a crash's temp files are hidden

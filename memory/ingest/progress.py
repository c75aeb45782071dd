"""A Rich progress bar for ingestion: files done, chunks per second and ETA, on stderr."""

from __future__ import annotations

import time
from typing import Any, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class Reporter(Protocol):
    """What the pipeline tells about its progress."""

    def start(self, files: int) -> None:
        """``files`` files will be (re)indexed."""
        ...

    def advance(self, files: int, chunks: int) -> None:
        """That many more files finished and chunks were embedded."""
        ...

    def stop(self) -> None:
        """The run ended (finished or interrupted)."""
        ...


class Silent:
    """No progress output (tests, ``--json``, non-interactive use)."""

    def start(self, files: int) -> None:
        """Nothing to show."""

    def advance(self, files: int, chunks: int) -> None:
        """Nothing to show."""

    def stop(self) -> None:
        """Nothing to show."""


class _ChunkRate(ProgressColumn):
    def render(self, task: Task) -> Text:
        chunks = int(task.fields.get("chunks", 0))
        elapsed = max(time.monotonic() - float(task.fields.get("t0", time.monotonic())), 1e-6)
        return Text(f"{chunks} chunks · {chunks / elapsed:.1f} chunks/s", style="cyan")


class RichReporter:
    """Files as M/N with a bar, embedded chunks with their rate, and the time remaining."""

    def __init__(self, console: Console | None = None) -> None:
        self._progress = Progress(
            TextColumn("[bold]indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files"),
            _ChunkRate(),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._task: Any = None
        self._chunks = 0

    def start(self, files: int) -> None:
        """Show the bar."""
        self._progress.start()
        self._task = self._progress.add_task("ingest", total=files, chunks=0, t0=time.monotonic())

    def advance(self, files: int, chunks: int) -> None:
        """Move the bar."""
        self._chunks += chunks
        self._progress.update(self._task, advance=files, chunks=self._chunks)

    def stop(self) -> None:
        """Leave the final line on screen."""
        self._progress.stop()

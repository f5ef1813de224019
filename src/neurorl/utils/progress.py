"""Progress bars for long runs (rich). Silent when NEURORL_NO_PROGRESS=1 or when asked to be quiet."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class _Bar:
    def __init__(self, progress: Progress | None, task_id):
        self._progress, self._task = progress, task_id

    def advance(self, n: float = 1, **fields) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=n, **fields)

    def set(self, completed: float, **fields) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=completed, **fields)

    def describe(self, text: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=text)


@contextlib.contextmanager
def progress_bar(total: float, description: str, *, quiet: bool = False, completed: float = 0) -> Iterator[_Bar]:
    """``with progress_bar(n, "training") as bar: bar.advance(k)`` — goes to stderr, so --json stdout stays clean."""
    if quiet or os.environ.get("NEURORL_NO_PROGRESS") == "1":
        yield _Bar(None, None)
        return
    from rich.console import Console

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    with progress:
        task = progress.add_task(description, total=total, completed=completed)
        yield _Bar(progress, task)

"""The training loop's progress bar: one batch-level line, reset for every epoch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


def epoch_task(bar: Progress, total: int, description: str) -> TaskID:
    """The one batch-level task of the bar, reset for each epoch (no line per epoch)."""
    if bar.task_ids:
        task = bar.task_ids[0]
        bar.reset(task, total=total, description=description, stats="")
        return task
    return bar.add_task(description, total=total, stats="")


@contextmanager
def epoch_bar(enabled: bool) -> Iterator[Progress | None]:
    """A rich progress display for the epochs of a training, or ``None`` when disabled."""
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[stats]}"),
    )
    with Progress(*columns, transient=False) as bar:
        yield bar

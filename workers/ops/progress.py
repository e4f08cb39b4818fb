"""Progress bars for long ops work, on stderr, drawn by rich.

On a terminal rich redraws one line in place (10 times a second): label, bar, done/total,
share, rate, time left and elapsed. Into a file or a pipe the same figures, without the bar,
go out as a plain line every few seconds, so logs of a long run show it moving without
thousands of lines.
"""

from __future__ import annotations

import time
from typing import TextIO

from rich import progress as rich_progress
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from workers.ops.output import console_for, show

_REDRAW_PER_SECOND = 10
_LOG_SECONDS = 5.0


class _Rate(ProgressColumn):
    """Items per second, over the last half minute (rich's estimate); '-' until known."""

    def render(self, task: rich_progress.Task) -> Text:
        speed = task.speed
        return Text("-/s" if speed is None else f"{speed:.1f}/s", style="progress.data.speed")


class _Eta(TimeRemainingColumn):
    """`ETA h:mm:ss`, nothing while the total is unknown."""

    def render(self, task: rich_progress.Task) -> Text:
        remaining = super().render(task)
        return Text.assemble("ETA ", remaining) if remaining.plain else remaining


class Progress:
    """`label [bar] done/total unit share rate/s ETA t elapsed t` (total may be unknown, or
    change). `finish()` draws the final state and ends the line."""

    def __init__(
        self, label: str, total: int | None, stream: TextIO, *, unit: str = "accounts"
    ) -> None:
        self._console = console_for(stream)
        self._live = self._console.is_terminal
        columns: list[ProgressColumn | str] = [
            TextColumn("{task.description}"),
            *([BarColumn()] if self._live else []),
            MofNCompleteColumn(),
            TextColumn(unit),
            TaskProgressColumn(),
            _Rate(),
            _Eta(),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
        ]
        self._bar = rich_progress.Progress(
            *columns,
            console=self._console,
            auto_refresh=self._live,
            refresh_per_second=_REDRAW_PER_SECOND,
        )
        self._task = self._bar.add_task(label, total=total)
        self._logged_at: float | None = None
        if self._live:
            self._bar.start()

    @property
    def done(self) -> int:
        return int(self._bar.tasks[0].completed)

    def update(self, done: int, total: int | None = None, *, force: bool = False) -> None:
        """Now `done` of `total` (None: the total stays as it was)."""
        self._bar.update(self._task, completed=done, total=total)
        if self._live:
            if force:
                self._bar.refresh()
            return
        now = time.monotonic()
        if force or self._logged_at is None or now - self._logged_at >= _LOG_SECONDS:
            self._logged_at = now
            show(self._console, self._bar.get_renderable())

    def finish(self) -> None:
        """Draw the final state and end the line."""
        if self._live:
            self._bar.stop()
        else:
            self.update(self.done, force=True)

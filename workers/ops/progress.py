"""Progress bars for long ops work, on stderr, without a dependency.

On a terminal one line is redrawn in place (at most 10 times a second); into a file or a pipe
a plain line is written every few seconds, so logs of a long run show it moving without
thousands of lines.
"""

from __future__ import annotations

import shutil
import time
from typing import TextIO

_REDRAW_SECONDS = 0.1
_LOG_SECONDS = 5.0


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """`label [#####-----] done/total unit  rate/s  ETA` (total may be unknown, or change)."""

    def __init__(
        self, label: str, total: int | None, stream: TextIO, *, unit: str = "accounts"
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.done = 0
        self._stream = stream
        self._tty = stream.isatty()
        self._started = time.monotonic()
        self._shown_at = 0.0
        self._drawn = False

    def update(self, done: int, total: int | None = None, *, force: bool = False) -> None:
        self.done = done
        if total is not None:
            self.total = total
        now = time.monotonic()
        interval = _REDRAW_SECONDS if self._tty else _LOG_SECONDS
        if not force and now - self._shown_at < interval:
            return
        self._shown_at = now
        line = self.render(now)
        if self._tty:
            width = shutil.get_terminal_size((100, 20)).columns - 1
            self._stream.write("\r" + line[:width].ljust(width))
            self._drawn = True
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    def render(self, now: float | None = None) -> str:
        elapsed = (now or time.monotonic()) - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        parts = [self.label]
        if self.total:
            share = min(self.done / self.total, 1.0)
            filled = int(share * 24)
            bar = f"[{'#' * filled}{'-' * (24 - filled)}]"
            parts.append(f"{bar} {self.done}/{self.total} {self.unit} ({share:.0%})")
        else:
            parts.append(f"{self.done} {self.unit}")
        parts.append(f"{rate:.1f}/s")
        if self.total and rate > 0 and self.done < self.total:
            parts.append(f"ETA {_duration((self.total - self.done) / rate)}")
        parts.append(f"elapsed {_duration(elapsed)}")
        return "  ".join(parts)

    def finish(self) -> None:
        """Draw the final state and end the line."""
        self.update(self.done, force=True)
        if self._tty and self._drawn:
            self._stream.write("\n")
            self._stream.flush()

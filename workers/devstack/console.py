"""The dev stack's one terminal: every process's lines prefixed with its source, aligned, colored
only on a terminal; the launcher's own log records go out the same way as `[dev]` lines."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import TextIO

from workers.devstack.processes import LineSink

_NAMES = ("dev", "postgres", "temporal", "twilio", "worker", "api")
_COLORS = {
    "dev": "1",
    "postgres": "34",
    "temporal": "35",
    "twilio": "33",
    "worker": "32",
    "api": "36",
}
_PREFIX_WIDTH = max(len(name) for name in _NAMES) + 2


class Console:
    """Aligned `[name] line` output for every process; colored only on a terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._color = self._stream.isatty() and "NO_COLOR" not in os.environ

    def line(self, name: str, text: str) -> None:
        prefix = f"[{name}]".ljust(_PREFIX_WIDTH)
        if self._color:
            prefix = f"\x1b[{_COLORS.get(name, '0')}m{prefix}\x1b[0m"
        self._stream.write(f"{prefix} {text}\n")
        self._stream.flush()

    def sink(self, name: str) -> LineSink:
        return lambda text: self.line(name, text)


class _ConsoleLogHandler(logging.Handler):
    """The launcher's own log records (alembic, SDK warnings) go out as `[dev]` lines."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self._console = console
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self._console.line("dev", self.format(record))


@contextlib.contextmanager
def console_logging(console: Console, level: str) -> Iterator[None]:
    """Route the launcher's logging through the console while the stack runs."""
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [_ConsoleLogHandler(console)]
    if level != "DEBUG":
        # Alembic narrates every migration and httpx every readiness probe at INFO.
        logging.getLogger("alembic").setLevel(logging.WARNING)
        logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.handlers = saved

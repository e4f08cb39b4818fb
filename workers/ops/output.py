"""How the ops commands write their tables and progress: through rich.

On a terminal, output is styled and fitted to the screen. Anywhere else (a file, a pipe, a
test) it is plain text that scripts can rely on: no ANSI codes (rich's own detection, so
`FORCE_COLOR`, `NO_COLOR` and `TTY_COMPATIBLE` apply), never wrapped or cut whatever the width
of the terminal the command was started from, no trailing spaces.
"""

from __future__ import annotations

from typing import TextIO

from rich.console import Console, RenderableType

# Wide enough for any line of ours (the longest: a pause reason of 500 characters and its
# prefix), so plain output never depends on a terminal's width.
PLAIN_WIDTH = 1_000


def console_for(stream: TextIO) -> Console:
    """A console on `stream`. Text is taken as it is: no markup, emoji codes or highlighting
    (ids, reasons and notes are shown exactly as they were typed)."""
    console = Console(file=stream, markup=False, emoji=False, highlight=False)
    if not console.is_terminal:
        console.width = PLAIN_WIDTH
    return console


def show(console: Console, renderable: RenderableType) -> None:
    """Print `renderable`; in plain output, each line without the spaces rich pads it with."""
    if console.is_terminal:
        console.print(renderable)
        return
    with console.capture() as captured:
        console.print(renderable)
    console.file.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))
    console.file.flush()

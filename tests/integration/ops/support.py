"""Running ops commands in the test's event loop, against the `stack` fixture's services."""

from __future__ import annotations

import io
from dataclasses import dataclass

from overdue.settings import Settings
from workers.cli import ops_commands
from workers.cli.main import build_parser


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


async def ops(settings: Settings, *argv: str) -> Ran:
    """`overdue <argv>` as the CLI parses it, run in this loop (the stack's worker keeps
    running beside it); output captured."""
    args = build_parser().parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    code = await ops_commands.run(ops_commands.COMMANDS[args.command], settings, args, out, err)
    return Ran(code, out.getvalue(), err.getvalue())

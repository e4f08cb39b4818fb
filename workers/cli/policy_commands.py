"""`overdue policy check FILE`: lint a policy file's SMS templates before it is deployed, and
show its calendars (rest days per jurisdiction) with their warnings. `overdue policy move
FILE`: preview, then move, running accounts to that policy (workers/ops/policy_move.py).

Exit codes of `check`: 0 no findings, 1 findings (each printed with its path), 2 a file that
cannot be read or is not a valid policy (the loader's file, path and reason lines, on stderr).
Of `move`: 0 done (or previewed), 1 some account refused or failed the move, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from overdue.settings import Settings


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[Settings, argparse.Namespace], int]]:
    """Add the `policy` command group; returns its handler by name."""
    policy = commands.add_parser(
        "policy", help="Check reminder policy files.", description="Check reminder policy files."
    )
    actions = policy.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="Lint a policy's SMS templates: opt-out phrase, no threats, segment budget.",
        description="Validate a policy file and check every SMS template against the template "
        "rules (docs/policies.md, 'Template rules'). Exit 0: clean; 1: findings; 2: a file "
        "that cannot be read or is not a valid policy.",
    )
    check.add_argument("file", metavar="FILE", type=Path, help="the policy's YAML file")
    move = actions.add_parser(
        "move",
        help="Preview, then move running accounts to this policy (version).",
        description="Show, for each running account the query matches, its next contacts now "
        "and under the policy in FILE; with --apply, move them (each workflow validates the "
        "move; each move is audited). Without --apply nothing changes.",
    )
    move.add_argument("file", metavar="FILE", type=Path, help="the new policy's YAML file")
    move.add_argument("--query", default=None, help="visibility query (default: all running)")
    move.add_argument("--horizon-days", type=int, default=30, help="preview window (default 30)")
    move.add_argument("--apply", action="store_true", help="move the accounts (default: preview)")
    move.add_argument("--actor", default=None, help="who (default ops:<login>)")
    move.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return {"policy": run_policy}


def run_policy(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "move":
        from workers.cli.ops_commands import sync_command
        from workers.cli.policy_move_command import move_policy_command

        return sync_command(move_policy_command)(settings, args)
    return check_file(args.file, sys.stdout, sys.stderr)


def check_file(file: Path, out: TextIO, err: TextIO, today: date | None = None) -> int:
    """Print what the linter finds in `file`, then its calendars (as expanded on `today`,
    default today's UTC date) and their warnings; the exit code says what the linter found."""
    # Imported here: every `overdue` command loads this module, few run it.
    from overdue.policy_files import PolicyFileError, read_policy
    from overdue.template_lint import lint_policy
    from workers.ops.calendar_check import render_calendars
    from workers.ops.output import console_for, show
    from workers.ops.policy_check import render

    today = today or datetime.now(UTC).date()
    try:
        policy = read_policy(file, today)
    except PolicyFileError as error:
        err.write(f"overdue: {error}\n")
        return 2
    findings = lint_policy(policy)
    console = console_for(out)
    show(console, render(str(file), policy, findings))
    calendars = render_calendars(str(file), policy, today)
    if calendars is not None:
        show(console, calendars)
    return 1 if findings else 0

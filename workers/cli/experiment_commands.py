"""`overdue experiment create|show|report|stop`: champion / challenger experiments
(docs/strategy.md#champion--challenger).

Exit codes: 0 done; 1 `report` found a guardrail stop (still printed in full); 2 a refused
file, an unknown experiment or a conflict (another experiment running, an id in use).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from overdue.settings import Settings


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[Settings, argparse.Namespace], int]]:
    """Add the `experiment` command group; returns its handler by name."""
    group = commands.add_parser(
        "experiment",
        help="Champion / challenger experiments between policies.",
        description="Champion / challenger experiments between policies.",
    )
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="Start an experiment from its YAML file (its arms' policies are snapshotted).",
        description="Validate the experiment file, find each arm's policy (id and version) in "
        "OVERDUE_EXPERIMENT_POLICY_DIR, and start assigning new accounts. One runs at a time.",
    )
    create.add_argument("file", metavar="FILE", type=Path)
    create.add_argument("--actor", default=None, help="who (default ops:<login>)")
    show = actions.add_parser("show", help="Show an experiment, its arms and assignments.")
    show.add_argument("experiment", metavar="EXP")
    show.add_argument("--json", action="store_true", help="print JSON")
    report = actions.add_parser(
        "report",
        help="Compare the arms' outcomes with confidence intervals.",
        description="Compare each challenger with the champion on cure rate, days to cure, "
        "amount recovered, contacts per cure, complaints, opt-outs and disputes. Exit 1 when "
        "a guardrail stopped an arm.",
    )
    report.add_argument("experiment", metavar="EXP")
    report.add_argument("--format", choices=("text", "json", "csv"), default="text")
    report.add_argument("--alpha", type=float, default=None, help="default: the experiment's")
    report.add_argument("--currency", default=None, help="only accounts billed in this currency")
    report.add_argument("--output", type=Path, default=None, help="write here, not stdout")
    stop = actions.add_parser("stop", help="Stop assigning accounts (running ones keep theirs).")
    stop.add_argument("experiment", metavar="EXP")
    stop.add_argument("--actor", default=None, help="who (default ops:<login>)")
    return {"experiment": run_experiment}


def run_experiment(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "report" and args.output is not None:
        try:
            with args.output.open("w", encoding="utf-8") as out:
                return asyncio.run(experiment(settings, args, out, sys.stderr))
        except OSError as error:
            sys.stderr.write(f"overdue: cannot write {args.output}: {error.strerror}\n")
            return 2
    return asyncio.run(experiment(settings, args, sys.stdout, sys.stderr))


async def experiment(settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """One `overdue experiment ACTION`, on a connection of its own; a refusal is written to
    `err` with its exit code."""
    from workers.ops.errors import OpsError

    try:
        return await _act(settings, args, out)
    except OpsError as error:
        err.write(f"overdue: {error}\n")
        return error.exit_code


async def _act(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    import asyncpg

    from workers.ops import experiments as ops

    conn = await asyncpg.connect(settings.require_database_url())
    try:
        if args.action == "create":
            return await ops.create(settings, conn, args.file, args.actor, out)
        if args.action == "show":
            return await ops.show(conn, args.experiment, as_json=args.json, out=out)
        if args.action == "stop":
            return await ops.stop(conn, args.experiment, args.actor, out)
        return await ops.report(
            conn,
            args.experiment,
            fmt=args.format,
            alpha=args.alpha,
            currency=args.currency,
            out=out,
        )
    finally:
        await conn.close()

"""`overdue simulate`: a policy over a portfolio and a payment-behaviour model, on the
workflow's own decision code (docs/strategy.md, "Simulate").

Exit codes: 0 simulated with 0 compliance violations; 1 simulated, but the compliance check
found violations; 2 input that cannot be simulated (a CSV row the API would refuse, a policy or
behaviour-model file that is not valid), nothing written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any, TextIO

from overdue.settings import Settings

DEFAULT_POLICY = Path("policies/default.yaml")
DEFAULT_BEHAVIOUR = Path("strategy/behaviour.yaml")
MAX_DAYS = 400
MAX_SYNTHETIC = 10_000_000


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[Settings, argparse.Namespace], int]]:
    """Add the `simulate` command; returns its handler by name."""
    about = (
        "Simulate a policy over a portfolio with a payment-behaviour model, on the workflow's "
        "own decision code; writes report.json and report.html (docs/strategy.md)."
    )
    cmd = commands.add_parser("simulate", help=about, description=about)
    source = cmd.add_mutually_exclusive_group(required=True)
    source.add_argument("--portfolio", type=Path, metavar="CSV", help="accounts (bulk-start CSV)")
    source.add_argument(
        "--synthetic", type=_count, metavar="N", help="N generated accounts (docs/strategy.md)"
    )
    cmd.add_argument("--seed", type=int, default=1, help="seed of the generator and draws (1)")
    cmd.add_argument("--policy", type=Path, default=DEFAULT_POLICY, help="policy file")
    cmd.add_argument(
        "--behaviour", type=Path, default=DEFAULT_BEHAVIOUR, help="behaviour model (YAML, JSON)"
    )
    cmd.add_argument("--compare", type=Path, metavar="OTHER_POLICY", help="a second policy")
    cmd.add_argument("--days", type=_days, default=120, help="days simulated (120)")
    cmd.add_argument(
        "--start",
        type=_instant,
        default=None,
        help="when the processes start (ISO instant with offset; default today 00:00 UTC)",
    )
    cmd.add_argument("--out", type=Path, default=Path("simulation"), help="output directory")
    cmd.add_argument("--workers", type=int, default=None, help="processes (default: CPUs)")
    cmd.add_argument("--daily", action="store_true", help="also print the main figures day by day")
    return {"simulate": run_simulate}


def _count(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_SYNTHETIC:
        raise argparse.ArgumentTypeError(f"from 1 to {MAX_SYNTHETIC:,}")
    return value


def _days(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"from 1 to {MAX_DAYS}")
    return value


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("an ISO instant, e.g. 2026-12-01T00:00:00+00:00") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("needs a UTC offset, e.g. 2026-12-01T00:00:00+00:00")
    return value.astimezone(UTC)


def run_simulate(_settings: Settings, args: argparse.Namespace) -> int:
    return simulate_command(args, sys.stdout, sys.stderr)


def simulate_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from workers.ops.simulation import InputError, Request, default_workers, run

    start = args.start or datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC)
    request = Request(
        policy=args.policy,
        behaviour=args.behaviour,
        days=args.days,
        seed=args.seed,
        start=start,
        out=args.out,
        workers=args.workers or default_workers(),
        portfolio=args.portfolio,
        synthetic=args.synthetic,
        compare=args.compare,
    )
    try:
        report = run(request, err)
    except InputError as error:
        err.write(f"overdue simulate: {error}\n")
        return 2
    runs = [report["champion"], report["challenger"]] if "champion" in report else [report]
    if args.daily:
        for one in runs:
            _print_days(out, one)
    _print(out, runs, report.get("differences"), args.out)
    return 1 if any(r["compliance"]["total_violations"] for r in runs) else 0


def _print_days(out: TextIO, run: dict[str, Any]) -> None:
    from rich.table import Table

    from workers.ops.output import console_for, show

    name = f"{run['policy']['id']} v{run['policy']['version']}"
    columns = ("day", "date", "sms", "calls", "notices", "segments", "call tasks")
    table = Table(*columns, "agent h", "actions", "open", "resolved", title=name)
    contacts, states = run["contacts"], run["states"]
    tasks = [sum(v) for v in zip(*run["call_tasks"].values(), strict=True)] or None
    for d, day in enumerate(run["days"]):
        open_now = sum(v[d] for k, v in states.items() if k not in ("resolved", "closed"))
        table.add_row(
            str(d),
            day,
            *(f"{contacts.get(c, [0] * (d + 1))[d]:,}" for c in ("sms", "call_task", "notify")),
            f"{run['sms']['segments'][d]:,}",
            f"{tasks[d] if tasks else 0:,}",
            f"{sum(run['agent_hours']['per_day_and_hour'][d]):.1f}",
            f"{run['temporal']['total'][d]:,}",
            f"{open_now:,}",
            f"{states.get('resolved', [0] * (d + 1))[d]:,}",
        )
    show(console_for(out), table)


def _print(out: TextIO, runs: list[dict[str, Any]], diff: dict[str, Any] | None, to: Path) -> None:
    from rich.table import Table

    from workers.ops.output import console_for, show

    table = Table("figure", *(f"{r['policy']['id']} v{r['policy']['version']}" for r in runs))
    if diff is not None:
        table.add_column("difference")
    keys = list(dict.fromkeys(k for r in runs for k in r["totals"]))
    for key in keys:
        cells = [f"{r['totals'].get(key, 0):,}" for r in runs]
        if diff is not None:
            cells.append(f"{diff[key]:+,}" if key in diff else "")
        table.add_row(key, *cells)
    console = console_for(out)
    show(console, table)
    out.write(f"reports: {to / 'report.json'}, {to / 'report.html'}\n")

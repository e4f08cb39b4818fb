"""Ops commands: `overdue status`, `list`, `bulk-start`, `pause`, `resume`, `tasks`.

Each command is an async function (settings, args, out, err) -> exit code, so tests run them
in their own event loop; `add_parsers` wraps them for `workers.cli.main`. Exit codes: 0 done,
1 failed on the way or (bulk-start) rows were rejected, 2 bad arguments or input.
Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from overdue.settings import Settings

# Light imports only: this module is loaded by every `overdue` command (the worker's and the
# API's too); each command imports its own work when it runs.
from workers.ops.errors import OpsError

if TYPE_CHECKING:
    import asyncpg
    from temporalio.client import Client

    from overdue.store.free_texts import FreeText
    from workers.ops import batch
    from workflows.types import PauseRequest, ResumeRequest

Command = Callable[[Settings, argparse.Namespace, TextIO, TextIO], Awaitable[int]]


def _within(kind: type[int] | type[float], low: float, high: float) -> Callable[[str], Any]:
    """An argparse type: a number of `kind` from low to high, or a message saying so."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}, got {text}")
        return value

    return parse


_rate = _within(float, 0.1, 1000)
_concurrency = _within(int, 1, 32)
_limit = _within(int, 0, 10_000_000)


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[Settings, argparse.Namespace], int]]:
    """Add the ops commands; returns their handlers by name."""
    add = commands.add_parser
    p = add("status", help="Show one account's process: state, balance, next step, contacts.")
    p.add_argument("account", metavar="ACCOUNT", help="the backend's account id")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add(
        "list",
        help="List accounts matching a Temporal visibility query.",
        description="List accounts matching a visibility query over the search attributes, "
        "e.g. --query \"OverdueState = 'active' AND DueDate <= '2026-11-16T00:00:00Z'\" (15 "
        "days past due on 2026-12-01; processes from before release cost-2026-12 carry "
        "DaysPastDue instead: docs/operations.md).",
    )
    p.add_argument("--query", default=None, help="visibility query (default: all accounts)")
    p.add_argument(
        "--limit", type=_limit, default=100, help="at most this many (default 100; 0: all)"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line")

    p = add(
        "bulk-start",
        help="Report overdue bills from a CSV: rate limited, resumable, idempotent.",
        description="Report overdue bills from a CSV as PUT /v1/accounts/{id}/overdue does. "
        "Columns: account_id, name, phone, time_zone, product, amount_minor, currency, "
        "due_date; optional locale, bill_id, risk_segment, vulnerable. See docs/operations.md.",
    )
    p.add_argument("csv", metavar="CSV", type=Path, help="the accounts file")
    p.add_argument("--rate", type=_rate, default=20.0, help="starts per second (default 20)")
    p.add_argument(
        "--concurrency", type=_concurrency, default=4, help="starts in flight (default 4)"
    )
    p.add_argument("--progress-file", type=Path, default=None, help="default: CSV + .progress.json")
    p.add_argument(
        "--restart", action="store_true", help="ignore the progress file, start from row one"
    )
    p.add_argument("--actor", default=None, help="recorded in the audit trail (ops:<login>)")

    for action, verb in (("pause", "Pause"), ("resume", "Resume")):
        p = add(
            action,
            help=f"{verb} every running account a visibility query matches (a batch job).",
            description=f"{verb} every running account the query matches, through a Temporal "
            f"batch job that signals {action}_by_ops with the reason.",
        )
        p.add_argument("--query", required=True, help="visibility query, e.g. \"Product = 'x'\"")
        p.add_argument("--reason", required=True, help="why (kept in each account's record)")
        p.add_argument("--actor", default=None, help="who (default ops:<login>)")
        p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        p.add_argument(
            "--dry-run", action="store_true", help="only count the accounts it would reach"
        )

    add("tasks", help="Open call tasks by queue (from Postgres).").add_argument(
        "--json", action="store_true", help="print JSON"
    )

    return {name: sync_command(command) for name, command in COMMANDS.items()}


def sync_command(command: Command) -> Callable[[Settings, argparse.Namespace], int]:
    def handler(settings: Settings, args: argparse.Namespace) -> int:
        if settings.log_level != "DEBUG":
            # Results go to stdout: INFO lines of the code paths reused (one per account
            # started) would bury them. Warnings still show.
            logging.getLogger().setLevel(logging.WARNING)
        code = asyncio.run(run(command, settings, args, sys.stdout, sys.stderr))
        # The Temporal SDK's core threads can abort the interpreter while it finalizes (SIGABRT
        # seen once in CI after `overdue status`). The work is done; flush and leave.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    return handler


async def run(
    command: Command, settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    """Run a command; an OpsError becomes its message on stderr and its exit code."""
    try:
        return await command(settings, args, out, err)
    except OpsError as error:
        err.write(f"overdue: {error}\n")
        return error.exit_code


async def status_command(
    settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    from workers.ops import status
    from workers.ops.common import connect_temporal
    from workers.ops.output import console_for, show

    account_id = status.check_account_id(args.account)
    client = await connect_temporal(settings)
    report = await status.fetch_status(client, account_id)
    if args.json:
        out.write(status.as_json(report) + "\n")
    else:
        show(console_for(out), status.render(report))
    if report.query_problem:
        err.write(f"overdue: {report.query_problem}\n")
        return 1
    return 0


async def list_command(
    settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    from workers.ops import listing
    from workers.ops.common import connect_temporal

    client = await connect_temporal(settings)
    limit = None if args.limit == 0 else int(args.limit)
    await listing.print_accounts(client, args.query, limit, as_json=args.json, out=out, err=err)
    return 0


async def bulk_start_command(
    settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    from api.dependencies import Services
    from api.overdue_reports import report_bill
    from api.schemas import OverdueReport, OverdueStarted
    from overdue.policy_files import PolicyFileError, load_policy
    from workers.ops import bulk_start
    from workers.ops.common import check_actor, connect_temporal, default_actor

    actor = check_actor(args.actor or default_actor())
    csv_path: Path = args.csv
    if not await asyncio.to_thread(csv_path.is_file):
        raise OpsError(f"{csv_path}: no such file", exit_code=2)
    progress_path = args.progress_file or bulk_start.default_progress_path(csv_path)
    try:
        policy = load_policy(settings.policy_file, sms_senders=settings.sms_route_map().values())
    except PolicyFileError as error:
        raise OpsError(str(error), exit_code=2) from None
    client = await connect_temporal(settings)
    pool = await open_pool(settings)
    services = Services(settings=settings, pool=pool, temporal=client, policy=policy)

    async def report(account_id: str, body: OverdueReport) -> OverdueStarted:
        return await report_bill(services, account_id, body, actor)

    started = time.monotonic()
    try:
        outcome = await bulk_start.bulk_start(
            csv_path,
            report,
            rate=args.rate,
            concurrency=args.concurrency,
            progress_path=progress_path,
            restart=args.restart,
            err=err,
        )
    except (KeyboardInterrupt, asyncio.CancelledError):
        err.write(f"interrupted; progress kept in {progress_path}: run again to go on\n")
        raise
    finally:
        await pool.close()
    if outcome.already_finished:
        err.write(
            f"{progress_path} says every row was done already; nothing to do "
            "(--restart goes through the file again)\n"
        )
    elif outcome.resumed_after:
        err.write(f"resumed after {outcome.resumed_after} rows done by an earlier run\n")
    bulk_start.summary(csv_path, outcome.state, time.monotonic() - started, out)
    return 1 if outcome.state.rejected else 0


async def batch_command(
    settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    from workers.ops import batch, listing
    from workers.ops.common import check_actor, connect_temporal, default_actor

    action: batch.Action = args.command
    actor = check_actor(args.actor or default_actor())
    request, reason = batch.request_for(action, actor, args.reason)
    client = await connect_temporal(settings)
    matching = await listing.count(client, args.query, running_only=True)
    if matching == 0:
        out.write(f"no running account matches {args.query!r}; nothing to {action}\n")
        return 0
    if args.dry_run:
        verb = "matches" if matching == 1 else "match"
        out.write(f"{_accounts(matching)} {verb}; --dry-run: nothing was {action}d\n")
        return 0
    # The audit trail records the job: an unreachable database stops us before it starts.
    pool = await open_pool(settings)
    try:
        if not args.yes:
            confirm(f"{action.capitalize()} {_accounts(matching)} matching {args.query!r}?")
        return await _run_batch(
            client, pool, action, (request, reason), args.query, matching, out, err
        )
    finally:
        await pool.close()


async def _run_batch(
    client: Client,
    pool: asyncpg.Pool,
    action: batch.Action,
    typed: tuple[PauseRequest | ResumeRequest, FreeText],
    query: str,
    matching: int,
    out: TextIO,
    err: TextIO,
) -> int:
    from overdue.store.audit import record_event
    from overdue.store.free_texts import keep
    from workers.ops import batch

    request, reason = typed
    await keep(pool, None, reason)  # one text for the job; the signals carry its id
    job_id = await batch.start(client, action, request, query)
    err.write(f"batch job {job_id} started ({action} {_accounts(matching)})\n")
    # One entry for the job (each account's own record notes the pause with actor and reason).
    await record_event(
        pool,
        account_id=None,
        actor=request.actor,
        kind=f"ops.batch_{action}",
        details={"job_id": job_id, "query": query, "text_id": reason.id, "matched": matching},
    )
    try:
        result = await batch.wait(client, job_id, matching, err)
    except (KeyboardInterrupt, asyncio.CancelledError):
        err.write(
            f"stopped watching; batch job {job_id} goes on in Temporal "
            f"(`temporal batch describe --job-id {job_id}`)\n"
        )
        raise
    await record_event(
        pool,
        account_id=None,
        actor=request.actor,
        kind=f"ops.batch_{action}_finished",
        details={
            "job_id": job_id,
            "signalled": result.signalled,
            "failed": result.failed,
            "state": result.state,
        },
    )
    out.write(
        f"{action}: signal {batch.SIGNALS[action]} delivered to {result.signalled} of "
        f"{result.total} running accounts, {result.failed} failed (batch job {job_id}, "
        f"{result.state}). Accounts already {'paused' if action == 'pause' else 'running'} "
        "ignore it and note so.\n"
    )
    return 0 if result.state == "completed" and result.failed == 0 else 1


async def tasks_command(
    settings: Settings, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    from overdue.store.call_tasks import queue_counts
    from workers.ops import tasks
    from workers.ops.output import console_for, show

    pool = await open_pool(settings)
    try:
        counts = await queue_counts(pool)
    finally:
        await pool.close()
    if args.json:
        out.write("[" + ", ".join(c.model_dump_json() for c in counts) + "]\n")
    else:
        show(console_for(out), tasks.render(counts, datetime.now(UTC)))
    return 0


COMMANDS: dict[str, Command] = {
    "status": status_command,
    "list": list_command,
    "bulk-start": bulk_start_command,
    "pause": batch_command,
    "resume": batch_command,
    "tasks": tasks_command,
}


async def open_pool(settings: Settings) -> asyncpg.Pool:
    import asyncpg

    url = settings.require_database_url()
    try:
        pool = await asyncpg.create_pool(
            url, min_size=1, max_size=max(settings.db_pool_max_size, 4)
        )
    except (OSError, asyncpg.PostgresError) as error:
        raise OpsError(
            f"cannot reach Postgres at DATABASE_URL: {type(error).__name__}: {error}"
        ) from None
    assert pool is not None
    return pool


def _accounts(count: int) -> str:
    return f"{count} running account{'' if count == 1 else 's'}"


def confirm(question: str) -> None:
    if not sys.stdin.isatty():
        raise OpsError(f"{question} There is no terminal to confirm on: pass --yes", exit_code=2)
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in {"y", "yes"}:
        raise OpsError("nothing done", exit_code=1)

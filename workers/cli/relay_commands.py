"""`overdue relay list` / `overdue relay retry`: the reports the API's relay gave up on.

The relay (api/relay.py) re-sends reported events and bills that Temporal did not take. One
that keeps failing for another reason than an outage (a stored input that no longer
validates, a payload Temporal refuses) waits longer before each try and is given up after a
few (overdue/store/relay_refusals.py), so it never holds up the others. `list` shows those
rows (ids and the kind of error only); `retry` gives them back to the relay, after the cause
is fixed. Exit 0; 2 on a bad account id.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import TextIO

from overdue.settings import Settings
from workers.ops.errors import OpsError
from workers.ops.status import check_account_id

ACTOR = "ops-cli"


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[Settings, argparse.Namespace], int]]:
    relay = commands.add_parser(
        "relay",
        help="Reports the API's relay gave up delivering.",
        description="Reported events and bills the API's relay gave up delivering to Temporal "
        "(docs/operations.md#the-relay).",
    )
    actions = relay.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list",
        help="Show the rows given up: account, what, id, attempts, error, when.",
        description="Show the rows given up, oldest first.",
    )
    listing.add_argument("--account", help="only this account id")
    retry = actions.add_parser(
        "retry",
        help="Give the rows back to the relay (after fixing the cause).",
        description="Give the rows given up back to the relay: tried on its next round, with "
        "a fresh count of attempts. Recorded in the audit trail.",
    )
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("--account", help="this account's rows")
    which.add_argument("--all", action="store_true", help="every row given up")
    return {"relay": run_relay_command}


def run_relay_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        account_id = check_account_id(args.account) if args.account else None
    except OpsError as err:
        print(f"overdue: {err}", file=sys.stderr)
        return err.exit_code
    url = settings.require_database_url()
    if args.action == "list":
        return asyncio.run(list_given_up(url, account_id, out=sys.stdout))
    return asyncio.run(retry_given_up(url, account_id, out=sys.stdout))


async def list_given_up(database_url: str, account_id: str | None, *, out: TextIO) -> int:
    import asyncpg

    from overdue.store.relay_refusals import given_up

    conn = await asyncpg.connect(database_url)
    try:
        rows = await given_up(conn, account_id=account_id)
    finally:
        await conn.close()
    if not rows:
        out.write("nothing given up\n")
        return 0
    out.write("account\twhat\tid\tattempts\terror\tgiven up at\n")
    for r in rows:
        when = r.given_up_at.isoformat(timespec="seconds")
        out.write(f"{r.account_id}\t{r.kind}\t{r.row_id}\t{r.attempts}\t{r.error}\t{when}\n")
    return 0


async def retry_given_up(database_url: str, account_id: str | None, *, out: TextIO) -> int:
    import asyncpg

    from overdue.store.audit import record_event
    from overdue.store.relay_refusals import retry

    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            count = await retry(conn, account_id=account_id)
            if count:
                await record_event(
                    conn,
                    account_id=account_id,
                    actor=ACTOR,
                    kind="relay.retried",
                    details={"count": count},
                )
    finally:
        await conn.close()
    out.write(f"{count} row(s) given back to the relay\n")
    return 0

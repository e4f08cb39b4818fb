"""`overdue audit verify`: check the audit trail's hash chain (overdue/store/audit_chain.py).
`overdue schedules ensure`: create or update the product's Temporal Schedules (the worker does
it at start too; workers/schedules.py).

`audit verify` exit codes: 0 the chain holds, 1 a broken link (printed with the row's id),
2 a refused setting.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import TextIO

from overdue.settings import Settings


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[Settings, argparse.Namespace], int]]:
    """Add the `audit` and `schedules` command groups; returns their handlers by name."""
    audit = commands.add_parser(
        "audit",
        help="Check the audit trail.",
        description="Check the audit trail.",
    )
    audit_actions = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    audit_actions.add_parser(
        "verify",
        help="Verify the audit trail's hash chain; print the first broken link.",
        description="Recompute every audit event's hash from the latest retention anchor to "
        "the chain's head (docs/privacy.md#the-audit-chain). Exit 0: the chain holds; 1: a "
        "row was altered, removed or inserted (its id is printed).",
    )
    schedules = commands.add_parser(
        "schedules",
        help="Temporal Schedules (the retention purge).",
        description="Temporal Schedules (the retention purge).",
    )
    schedule_actions = schedules.add_subparsers(dest="action", required=True, metavar="ACTION")
    schedule_actions.add_parser(
        "ensure",
        help="Create the schedules, or bring them up to the settings (idempotent).",
        description="Create the retention purge's schedule, or update it to "
        "OVERDUE_RETENTION_PURGE_INTERVAL_HOURS; a paused schedule stays paused. The worker "
        "does the same at start.",
    )
    return {"audit": run_audit_verify, "schedules": run_schedules_ensure}


def run_audit_verify(settings: Settings, _args: argparse.Namespace) -> int:
    return asyncio.run(verify(settings.require_database_url(), out=sys.stdout))


async def verify(database_url: str, *, out: TextIO) -> int:
    import asyncpg

    from overdue.store.audit_chain import verify_chain

    conn = await asyncpg.connect(database_url)
    try:
        # One snapshot: rows appended meanwhile do not move the chain's end under the check.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            report = await verify_chain(conn)
    finally:
        await conn.close()
    if report.broken is None:
        out.write(f"audit chain OK: {report.checked} events from seq {report.first_seq}\n")
        return 0
    b = report.broken
    where = f"event id {b.event_id}" if b.event_id is not None else "the chain's end"
    out.write(f"audit chain BROKEN at {where} (seq {b.chain_seq}): {b.reason}\n")
    return 1


def run_schedules_ensure(settings: Settings, _args: argparse.Namespace) -> int:
    async def ensure() -> None:
        from overdue.temporal_client import connect
        from workers.schedules import ensure_schedules

        client = await connect(settings)
        interval = timedelta(hours=settings.retention_purge_interval_hours)
        await ensure_schedules(client, purge_interval=interval)

    asyncio.run(ensure())
    print("schedules ensured: retention-purge")
    return 0

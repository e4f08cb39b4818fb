"""The bills backends reported overdue, one row per (account, bill id): a bill reported again
is recognized, not added twice.

Each row is also an outbox entry (migration 0007): it is committed with the workflow input a
start would use (`start_input`, no personal data) before the API calls Temporal, and marked
delivered once the process was started or signalled the bill. A relay finishes what a crash or
an outage left undelivered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import asyncpg

from overdue.store import relay_refusals


@dataclass(frozen=True)
class Bill:
    account_id: str
    bill_id: str
    amount_minor: int
    currency: str
    due_date: date


@dataclass(frozen=True)
class PendingBill:
    """A bill not yet delivered to the account's process, with what delivering it takes."""

    bill: Bill
    start_input: Mapping[str, Any]
    actor: str


async def add_bill(
    conn: asyncpg.Connection,
    bill: Bill,
    *,
    start_input: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> bool:
    """Store the bill; True when it is new, False when this bill id was reported before.

    With `start_input` the bill waits for `mark_bill_delivered`; without, it counts as
    delivered now."""
    inserted: bool | None = await conn.fetchval(
        """
        INSERT INTO account_bills
               (account_id, bill_id, amount_minor, currency, due_date, start_input, actor,
                delivered_at)
        VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, CASE WHEN $6::jsonb IS NULL THEN now() END)
        ON CONFLICT DO NOTHING RETURNING true
        """,
        bill.account_id,
        bill.bill_id,
        bill.amount_minor,
        bill.currency,
        bill.due_date,
        json.dumps(dict(start_input)) if start_input is not None else None,
        actor,
    )
    return bool(inserted)


async def bills_total(db: asyncpg.Pool | asyncpg.Connection, account_id: str, besides: str) -> int:
    """The sum of the account's stored bills other than `besides` (a bill reported again is
    not counted twice), in minor units; 0 for an account never reported."""
    total: int | None = await db.fetchval(
        "SELECT sum(amount_minor) FROM account_bills WHERE account_id = $1 AND bill_id <> $2",
        account_id,
        besides,
    )
    return int(total or 0)


async def bill_delivered(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: str, bill_id: str
) -> bool:
    """Whether the bill reached the account's process (True for a bill never stored)."""
    delivered: bool | None = await conn.fetchval(
        """
        SELECT delivered_at IS NOT NULL OR start_input IS NULL FROM account_bills
         WHERE account_id = $1 AND bill_id = $2
        """,
        account_id,
        bill_id,
    )
    return delivered is not False


async def mark_bill_delivered(conn: asyncpg.Connection, account_id: str, bill_id: str) -> bool:
    """Mark the bill delivered; False when it already was (by the relay or a repeat)."""
    marked: bool | None = await conn.fetchval(
        """
        UPDATE account_bills SET delivered_at = now()
         WHERE account_id = $1 AND bill_id = $2 AND delivered_at IS NULL RETURNING true
        """,
        account_id,
        bill_id,
    )
    return bool(marked)


async def undelivered_bills(
    conn: asyncpg.Connection | asyncpg.Pool, *, older_than: timedelta, limit: int = 100
) -> list[PendingBill]:
    """Bills stored at least `older_than` ago and not yet delivered, oldest first; not those
    refused lately or given up (overdue/store/relay_refusals.py)."""
    rows = await conn.fetch(
        f"""
        SELECT account_id, bill_id, amount_minor, currency, due_date, start_input, actor
          FROM account_bills
         WHERE delivered_at IS NULL AND start_input IS NOT NULL
           AND created_at <= now() - $1::interval AND {relay_refusals.DUE}
         ORDER BY created_at LIMIT $2
        """,
        older_than,
        limit,
    )
    return [
        PendingBill(
            bill=Bill(
                account_id=r["account_id"],
                bill_id=r["bill_id"],
                amount_minor=r["amount_minor"],
                currency=r["currency"].strip(),
                due_date=r["due_date"],
            ),
            start_input=json.loads(r["start_input"]),
            actor=r["actor"] or "system",
        )
        for r in rows
    ]

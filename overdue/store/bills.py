"""The bills backends reported overdue, one row per (account, bill id): a bill reported again
is recognized, not added twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg


@dataclass(frozen=True)
class Bill:
    account_id: str
    bill_id: str
    amount_minor: int
    currency: str
    due_date: date


async def add_bill(conn: asyncpg.Connection, bill: Bill) -> bool:
    """Store the bill; True when it is new, False when this bill id was reported before."""
    inserted: bool | None = await conn.fetchval(
        """
        INSERT INTO account_bills (account_id, bill_id, amount_minor, currency, due_date)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true
        """,
        bill.account_id,
        bill.bill_id,
        bill.amount_minor,
        bill.currency,
        bill.due_date,
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

"""Deliveries the relay could not make (migration 0024): each refusal waits longer before
the next try, and a row refused RELAY_MAX_ATTEMPTS times is given up until ops retry it.

Both outboxes (`reported_events`, `account_bills`) carry the same four columns; a row is
named by its table's key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from overdue.store.transactions import Db

RELAY_MAX_ATTEMPTS = 8  # 5 s, 10, 20, ... : given up about 21 minutes after the first refusal
FIRST_WAIT = timedelta(seconds=5)
LONGEST_WAIT = timedelta(hours=1)

# Which rows the relay may try now: not given up, and past their wait (undelivered() adds it).
DUE = "relay_given_up_at IS NULL AND (relay_after IS NULL OR relay_after <= now())"

# Per outbox: its table and the key that names one of its rows (after the four values below).
_OUTBOXES = {
    "event": ("reported_events", "account_id = $5 AND kind = $6 AND event_id = $7"),
    "bill": ("account_bills", "account_id = $5 AND bill_id = $6"),
}


async def _refused(db: Db, outbox: Literal["event", "bill"], error: str, *key: str) -> bool:
    table, where = _OUTBOXES[outbox]
    given_up: bool | None = await db.fetchval(
        f"""
        UPDATE {table}
           SET relay_attempts = relay_attempts + 1,
               relay_error = $1,
               relay_after = now() + least($2::interval * 2 ^ relay_attempts, $3::interval),
               relay_given_up_at = CASE WHEN relay_attempts + 1 >= $4 THEN now() END
         WHERE {where} AND delivered_at IS NULL
        RETURNING relay_given_up_at IS NOT NULL
        """,
        error,
        FIRST_WAIT,
        LONGEST_WAIT,
        RELAY_MAX_ATTEMPTS,
        *key,
    )
    return bool(given_up)


async def event_refused(db: Db, account_id: str, kind: str, event_id: str, error: str) -> bool:
    """A reported event's delivery failed with `error`; True when it is now given up."""
    return await _refused(db, "event", error, account_id, kind, event_id)


async def bill_refused(db: Db, account_id: str, bill_id: str, error: str) -> bool:
    """A bill's delivery (a start, or its signal) failed with `error`; True when given up."""
    return await _refused(db, "bill", error, account_id, bill_id)


@dataclass(frozen=True)
class GivenUp:
    """A row the relay stopped trying."""

    outbox: Literal["event", "bill"]
    account_id: str
    kind: str  # the event's kind; "bill" for a bill
    row_id: str  # the event id or the bill id
    attempts: int
    error: str
    given_up_at: datetime


async def given_up(db: Db, *, account_id: str | None = None, limit: int = 500) -> list[GivenUp]:
    """Rows given up and still undelivered, oldest first (all accounts, or one)."""
    rows = await db.fetch(
        """
        SELECT 'event' AS outbox, account_id, kind, event_id AS row_id, relay_attempts,
               relay_error, relay_given_up_at
          FROM reported_events
         WHERE relay_given_up_at IS NOT NULL AND delivered_at IS NULL
           AND ($1::text IS NULL OR account_id = $1)
        UNION ALL
        SELECT 'bill', account_id, 'bill', bill_id, relay_attempts, relay_error,
               relay_given_up_at
          FROM account_bills
         WHERE relay_given_up_at IS NOT NULL AND delivered_at IS NULL
           AND ($1::text IS NULL OR account_id = $1)
         ORDER BY relay_given_up_at LIMIT $2
        """,
        account_id,
        limit,
    )
    return [
        GivenUp(
            outbox=r["outbox"],
            account_id=r["account_id"],
            kind=r["kind"],
            row_id=r["row_id"],
            attempts=r["relay_attempts"],
            error=r["relay_error"] or "",
            given_up_at=r["relay_given_up_at"],
        )
        for r in rows
    ]


async def retry(db: Db, *, account_id: str | None = None) -> int:
    """Give the relay given-up rows back (all accounts, or one): tried on its next round, with
    a fresh count of attempts. How many rows."""
    counts = []
    for table in ("reported_events", "account_bills"):
        done = await db.execute(
            f"""
            UPDATE {table}
               SET relay_given_up_at = NULL, relay_attempts = 0, relay_after = NULL
             WHERE relay_given_up_at IS NOT NULL AND delivered_at IS NULL
               AND ($1::text IS NULL OR account_id = $1)
            """,
            account_id,
        )
        counts.append(int(done.split()[-1]))
    return sum(counts)


@dataclass(frozen=True)
class OutboxCounts:
    """One outbox's undelivered reports, for the worker's gauges (overdue/metrics.py)."""

    outbox: Literal["event", "bill"]
    pending: int  # the relay still tries them (some waiting after a refusal)
    given_up: int
    oldest_pending_at: datetime | None


async def outbox_counts(db: Db) -> list[OutboxCounts]:
    rows = await db.fetch(
        """
        SELECT 'event' AS outbox,
               count(*) FILTER (WHERE relay_given_up_at IS NULL) AS pending,
               count(*) FILTER (WHERE relay_given_up_at IS NOT NULL) AS given_up,
               min(reported_at) FILTER (WHERE relay_given_up_at IS NULL) AS oldest
          FROM reported_events WHERE delivered_at IS NULL AND signal_name IS NOT NULL
        UNION ALL
        SELECT 'bill',
               count(*) FILTER (WHERE relay_given_up_at IS NULL),
               count(*) FILTER (WHERE relay_given_up_at IS NOT NULL),
               min(created_at) FILTER (WHERE relay_given_up_at IS NULL)
          FROM account_bills WHERE delivered_at IS NULL AND start_input IS NOT NULL
        """
    )
    return [OutboxCounts(r["outbox"], r["pending"], r["given_up"], r["oldest"]) for r in rows]

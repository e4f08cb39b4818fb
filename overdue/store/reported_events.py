"""Events backends report about an account (payments, hardship, disputes, cease contact), once
per id: the table `reported_events`, whose primary key (account, kind, id) makes a replayed
report a no-op.

It is what the API's de-duplication and the pre-send payment check read; the audit trail
keeps its own row for each event, written in the same transaction, and is never read as an
index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from overdue.store import audit

PAYMENT_REPORTED = "payment.reported"


async def record_once(
    conn: asyncpg.Connection,
    *,
    account_id: str,
    kind: str,
    event_id: str,
    actor: str,
    details: Mapping[str, Any],
) -> bool:
    """Record the event and its audit row, unless this (account, kind, id) was recorded
    before; True when this call recorded it. Call inside the transaction that signals it."""
    inserted: bool | None = await conn.fetchval(
        """
        INSERT INTO reported_events (account_id, kind, event_id) VALUES ($1, $2, $3)
        ON CONFLICT DO NOTHING RETURNING true
        """,
        account_id,
        kind,
        event_id,
    )
    if not inserted:
        return False
    await audit.record_event(conn, account_id=account_id, actor=actor, kind=kind, details=details)
    return True


async def unseen_payments(
    conn: asyncpg.Connection | asyncpg.Pool,
    account_id: str,
    *,
    since: datetime,
    known: Sequence[str],
) -> int:
    """How many payments were reported for the account at or after `since` whose ids are not
    in `known`."""
    count: int = await conn.fetchval(
        """
        SELECT count(*) FROM reported_events
         WHERE account_id = $1 AND kind = $2 AND reported_at >= $3
           AND NOT (event_id = ANY($4::text[]))
        """,
        account_id,
        PAYMENT_REPORTED,
        since,
        list(known),
    )
    return count

"""Consent events: every grant and withdrawal of consent per account and channel (migration
0011), never edited. The current consent of a channel is its latest row by `at` (then by id).

The API writes a row in the transaction that records the change's signal (`reported_events`,
the outbox); the pre-send check (`contact_gate`) reads the latest row of the contact's channel,
so a withdrawal committed after the decision withholds the contact even before the workflow
has the signal. No personal data: channel, source, instants, the actor's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class ConsentEvent:
    account_id: str
    change_id: str
    channel: str
    granted: bool
    source: str
    at: datetime
    actor: str
    recorded_at: datetime | None = None  # set by Postgres
    id: int | None = None


def _event(row: asyncpg.Record) -> ConsentEvent:
    return ConsentEvent(
        account_id=row["account_id"],
        change_id=row["change_id"],
        channel=row["channel"],
        granted=row["granted"],
        source=row["source"],
        at=row["at"],
        actor=row["actor"],
        recorded_at=row["recorded_at"],
        id=row["id"],
    )


_COLUMNS = "id, account_id, change_id, channel, granted, source, at, recorded_at, actor"


async def record_change(conn: asyncpg.Connection, event: ConsentEvent) -> ConsentEvent | None:
    """Append the change; None when its (account, change_id) was recorded before (then the
    stored row is what counts: `change_by_id` reads it)."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO consent_events (account_id, change_id, channel, granted, source, at, actor)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (account_id, change_id) DO NOTHING
        RETURNING {_COLUMNS}
        """,
        event.account_id,
        event.change_id,
        event.channel,
        event.granted,
        event.source,
        event.at,
        event.actor,
    )
    return None if row is None else _event(row)


async def change_by_id(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: str, change_id: str
) -> ConsentEvent | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM consent_events WHERE account_id = $1 AND change_id = $2",
        account_id,
        change_id,
    )
    return None if row is None else _event(row)


async def history(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: str, *, limit: int = 500
) -> list[ConsentEvent]:
    """The account's changes in the order they happened (`at`, then as recorded)."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM consent_events WHERE account_id = $1
         ORDER BY at, id LIMIT $2
        """,
        account_id,
        limit,
    )
    return [_event(r) for r in rows]


async def current(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: str, channel: str
) -> ConsentEvent | None:
    """The channel's latest change, as of now; None: never recorded."""
    row = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM consent_events WHERE account_id = $1 AND channel = $2
         ORDER BY at DESC, id DESC LIMIT 1
        """,
        account_id,
        channel,
    )
    return None if row is None else _event(row)


async def withdrawn(conn: asyncpg.Connection | asyncpg.Pool, account_id: str, channel: str) -> bool:
    """Whether the channel's latest recorded change is a withdrawal."""
    latest = await current(conn, account_id, channel)
    return latest is not None and not latest.granted


async def granted_at(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: str, channel: str, at: datetime
) -> bool | None:
    """The channel's consent as recorded by the instant `at` (for the compliance audit):
    True granted, False withdrawn, None nothing recorded by then."""
    value: bool | None = await conn.fetchval(
        """
        SELECT granted FROM consent_events
         WHERE account_id = $1 AND channel = $2 AND recorded_at <= $3
         ORDER BY at DESC, id DESC LIMIT 1
        """,
        account_id,
        channel,
        at,
    )
    return value

"""Events backends report about an account (payments, hardship, disputes, cease contact), once
per id: the table `reported_events`, whose primary key (account, kind, id) makes a replayed
report a no-op.

It is what the API's de-duplication and the pre-send check (payments, cease, disputes) read;
the audit trail keeps its own row for each event and is never read as an index.

It is also an outbox (migration 0007): the API commits the event with the signal to send
(`Intent`) before calling Temporal, and marks it delivered after; the event's audit row is
written with that mark, so an event Temporal refused (no running process) is forgotten
without a trace. A relay re-sends what a crash or an outage left undelivered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from overdue.store import audit, relay_refusals
from workflows.event_audit import KINDS
from workflows.types import ContactCeased, DisputeClosed, DisputeOpened

PAYMENT_REPORTED = "payment.reported"
# The kinds the pre-send check reads, as the API records them (one table: workflows.event_audit).
CONTACT_CEASED = KINDS[ContactCeased].audit_kind
DISPUTE_OPENED = KINDS[DisputeOpened].audit_kind
DISPUTE_CLOSED = KINDS[DisputeClosed].audit_kind


@dataclass(frozen=True)
class Intent:
    """The signal an event is delivered as: the workflow's signal name and its JSON payload."""

    signal_name: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Undelivered:
    """An event recorded and not yet signalled (what the relay re-sends)."""

    account_id: str
    kind: str
    event_id: str
    intent: Intent


async def record_once(
    conn: asyncpg.Connection,
    *,
    account_id: str,
    kind: str,
    event_id: str,
    actor: str,
    details: Mapping[str, Any],
    intent: Intent | None = None,
) -> bool:
    """Record the event unless this (account, kind, id) was recorded before; True when this
    call recorded it.

    Without `intent` the event counts as delivered and its audit row is written now. With
    one, the row waits for `mark_delivered`, which writes the audit row.
    """
    inserted: bool | None = await conn.fetchval(
        """
        INSERT INTO reported_events
               (account_id, kind, event_id, signal_name, signal_payload, actor, details,
                delivered_at)
        VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb,
                CASE WHEN $4::text IS NULL THEN now() END)
        ON CONFLICT DO NOTHING RETURNING true
        """,
        account_id,
        kind,
        event_id,
        intent.signal_name if intent else None,
        json.dumps(dict(intent.payload)) if intent else None,
        actor,
        json.dumps(dict(details), sort_keys=True),
    )
    if not inserted:
        return False
    if intent is None:
        await audit.record_event(
            conn, account_id=account_id, actor=actor, kind=kind, details=details
        )
    return True


async def mark_delivered(
    conn: asyncpg.Connection, *, account_id: str, kind: str, event_id: str
) -> bool:
    """Mark the event signalled and write its audit row; False when it already was (by the
    relay or a repeated request), then nothing is written."""
    row = await conn.fetchrow(
        """
        UPDATE reported_events SET delivered_at = now()
         WHERE account_id = $1 AND kind = $2 AND event_id = $3 AND delivered_at IS NULL
        RETURNING actor, details
        """,
        account_id,
        kind,
        event_id,
    )
    if row is None:
        return False
    await audit.record_event(
        conn,
        account_id=account_id,
        actor=row["actor"] or "system",
        kind=kind,
        details=json.loads(row["details"]) if row["details"] else {},
    )
    return True


async def forget_undelivered(
    conn: asyncpg.Connection | asyncpg.Pool, *, account_id: str, kind: str, event_id: str
) -> bool:
    """Drop an event Temporal refused (the account has no running process): as if it had
    never been reported, the text typed with it included. A delivered event is kept."""
    deleted: bool | None = await conn.fetchval(
        """
        WITH gone AS (
            DELETE FROM reported_events
             WHERE account_id = $1 AND kind = $2 AND event_id = $3 AND delivered_at IS NULL
            RETURNING details ->> 'text_id' AS text_id
        ), texts AS (
            DELETE FROM free_texts WHERE id IN (SELECT text_id FROM gone)
        )
        SELECT true FROM gone
        """,
        account_id,
        kind,
        event_id,
    )
    return bool(deleted)


async def undelivered(
    conn: asyncpg.Connection | asyncpg.Pool, *, older_than: timedelta, limit: int = 100
) -> list[Undelivered]:
    """Events recorded at least `older_than` ago and still not signalled, oldest first;
    not those refused lately or given up (overdue/store/relay_refusals.py)."""
    rows = await conn.fetch(
        f"""
        SELECT account_id, kind, event_id, signal_name, signal_payload FROM reported_events
         WHERE delivered_at IS NULL AND signal_name IS NOT NULL
           AND reported_at <= now() - $1::interval AND {relay_refusals.DUE}
         ORDER BY reported_at LIMIT $2
        """,
        older_than,
        limit,
    )
    return [
        Undelivered(
            account_id=r["account_id"],
            kind=r["kind"],
            event_id=r["event_id"],
            intent=Intent(r["signal_name"], json.loads(r["signal_payload"])),
        )
        for r in rows
    ]


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


async def cease_reported(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: str, *, since: datetime
) -> bool:
    """Whether a cease-contact request was reported for the account at or after `since`."""
    found: bool = await conn.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM reported_events
                        WHERE account_id = $1 AND kind = $2 AND reported_at >= $3)
        """,
        account_id,
        CONTACT_CEASED,
        since,
    )
    return found


async def unseen_open_disputes(
    conn: asyncpg.Connection | asyncpg.Pool,
    account_id: str,
    *,
    since: datetime,
    known: Sequence[str],
) -> int:
    """How many disputes were reported opened for the account at or after `since`, are not in
    `known` and have not been reported closed since."""
    count: int = await conn.fetchval(
        """
        SELECT count(*) FROM reported_events opened
         WHERE opened.account_id = $1 AND opened.kind = $2 AND opened.reported_at >= $4
           AND NOT (opened.event_id = ANY($5::text[]))
           AND NOT EXISTS (SELECT 1 FROM reported_events closed
                            WHERE closed.account_id = opened.account_id AND closed.kind = $3
                              AND closed.event_id = opened.event_id)
        """,
        account_id,
        DISPUTE_OPENED,
        DISPUTE_CLOSED,
        since,
        list(known),
    )
    return count

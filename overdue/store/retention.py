"""The retention purge's SQL: what has expired, per data class, and removing it in batches.

Each function takes the cutoff (now minus the class's period; the caller passes `now`, never
the wall clock) and a batch size, works on the caller's connection inside its transaction, and
returns how many rows it removed or blanked. What each period counts from is documented in
docs/privacy.md#retention. Row and column level only: blanking a body works whether or not it
is stored encrypted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from overdue.store import letters

COLLECTION_RECORDS = "collection_records"


async def blank_message_bodies(conn: asyncpg.Connection, cutoff: datetime, limit: int) -> int:
    """SMS bodies sent (the ledger's rendered text) and received (with the sender's number),
    and letters' PDFs, created before `cutoff`. The rows stay: what was sent when, to which
    account, stays."""
    sent = await conn.fetchval(
        """
        WITH expired AS (
            SELECT id FROM contact_ledger
             WHERE body IS NOT NULL AND created_at < $1 ORDER BY created_at, id LIMIT $2)
        , blanked AS (
            UPDATE contact_ledger l SET body = NULL FROM expired
             WHERE l.id = expired.id RETURNING 1)
        SELECT count(*) FROM blanked
        """,
        cutoff,
        limit,
    )
    received = await conn.fetchval(
        """
        WITH expired AS (
            SELECT id FROM inbound_messages
             WHERE (body <> '' OR from_e164 <> '') AND received_at < $1
             ORDER BY received_at, id LIMIT $2)
        , blanked AS (
            UPDATE inbound_messages m SET body = '', from_e164 = '' FROM expired
             WHERE m.id = expired.id RETURNING 1)
        SELECT count(*) FROM blanked
        """,
        cutoff,
        limit,
    )
    return int(sent) + int(received) + await letters.blank_expired(conn, cutoff, limit)


async def delete_free_texts(conn: asyncpg.Connection, cutoff: datetime, limit: int) -> int:
    """Call notes, reasons and other free texts written before `cutoff`. The audit rows that
    refer to them keep their `text_id`; readers show a missing text as erased."""
    deleted = await conn.fetchval(
        """
        WITH expired AS (
            SELECT id FROM free_texts WHERE created_at < $1 ORDER BY created_at, id LIMIT $2)
        , deleted AS (
            DELETE FROM free_texts t USING expired WHERE t.id = expired.id RETURNING 1)
        SELECT count(*) FROM deleted
        """,
        cutoff,
        limit,
    )
    return int(deleted)


# An account is idle since `cutoff` when nothing about it changed or happened since. Its
# customer asking what we hold (`privacy.accessed`) is not activity: it never extends retention.
_IDLE = """
    c.updated_at < $1
    AND NOT EXISTS (SELECT 1 FROM accounts a
                     WHERE a.account_id = c.account_id AND a.updated_at >= $1)
    AND NOT EXISTS (SELECT 1 FROM contact_ledger l
                     WHERE l.account_id = c.account_id AND l.created_at >= $1)
    AND NOT EXISTS (SELECT 1 FROM call_tasks t
                     WHERE t.account_id = c.account_id
                       AND (t.updated_at >= $1 OR t.status IN ('open', 'claimed')))
    AND NOT EXISTS (SELECT 1 FROM audit_events e
                     WHERE e.account_id = c.account_id AND e.occurred_at >= $1
                       AND e.kind <> 'privacy.accessed')
"""


async def idle_contact_accounts(
    conn: asyncpg.Connection, cutoff: datetime, after: str, limit: int
) -> list[str]:
    """Accounts (after `after`, in id order) whose contact details are kept and that have had
    no activity since `cutoff`: candidates, if their workflow is closed too."""
    rows = await conn.fetch(
        f"SELECT c.account_id FROM customer_contacts c WHERE {_IDLE} AND c.account_id > $2 "
        "ORDER BY c.account_id LIMIT $3",
        cutoff,
        after,
        limit,
    )
    return [r["account_id"] for r in rows]


async def erase_contact_details(
    conn: asyncpg.Connection, cutoff: datetime, account_ids: Sequence[str]
) -> int:
    """Remove these accounts' contact details (name, phone, time zone, locale) and the number
    each ledger row went to, if each is still idle since `cutoff`; returns the accounts."""
    erased = await conn.fetch(
        f"DELETE FROM customer_contacts c WHERE c.account_id = ANY($2::text[]) AND {_IDLE} "
        "RETURNING c.account_id",
        cutoff,
        list(account_ids),
    )
    ids = [r["account_id"] for r in erased]
    if ids:
        await conn.execute(
            "UPDATE contact_ledger SET recipient = NULL "
            "WHERE account_id = ANY($1::text[]) AND recipient IS NOT NULL",
            ids,
        )
    return len(ids)


async def delete_collection_records(conn: asyncpg.Connection, cutoff: datetime, limit: int) -> int:
    """Compliance receipts, dial attempts, finished call tasks and ledger rows (with their
    status events) whose last change is before `cutoff`. The horizon is recorded first: the
    receipts' append-only trigger lets through only rows older than it."""
    await conn.execute(
        "INSERT INTO retention_horizons (data_class, cutoff) VALUES ($1, $2)",
        COLLECTION_RECORDS,
        cutoff,
    )
    return int(
        await conn.fetchval(
            """
            WITH receipts AS (
                DELETE FROM compliance_receipts r USING (
                    SELECT id FROM compliance_receipts WHERE at < $1 ORDER BY at, id LIMIT $2
                ) x WHERE r.id = x.id RETURNING 1)
            , dials AS (
                DELETE FROM dial_attempts d USING (
                    SELECT id FROM dial_attempts WHERE dialled_at < $1
                     ORDER BY dialled_at, id LIMIT $2
                ) x WHERE d.id = x.id RETURNING 1)
            SELECT (SELECT count(*) FROM receipts) + (SELECT count(*) FROM dials)
            """,
            cutoff,
            limit,
        )
    ) + await _delete_tasks_and_ledger(conn, cutoff, limit)


async def _delete_tasks_and_ledger(conn: asyncpg.Connection, cutoff: datetime, limit: int) -> int:
    # Separate statements: a data-modifying CTE does not see the rows the others removed,
    # and a task's dial attempts (or a ledger row's events) must be gone before it is.
    tasks = await conn.fetchval(
        """
        WITH deleted AS (
            DELETE FROM call_tasks t USING (
                SELECT id FROM call_tasks c
                 WHERE updated_at < $1 AND status IN ('done', 'cancelled')
                   AND NOT EXISTS (SELECT 1 FROM dial_attempts d WHERE d.task_id = c.id)
                 ORDER BY updated_at, id LIMIT $2
            ) x WHERE t.id = x.id RETURNING 1)
        SELECT count(*) FROM deleted
        """,
        cutoff,
        limit,
    )
    expired = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM contact_ledger WHERE updated_at < $1 ORDER BY updated_at, id LIMIT $2",
            cutoff,
            limit,
        )
    ]
    if expired:
        await conn.execute(
            "DELETE FROM contact_events WHERE ledger_id = ANY($1::bigint[])", expired
        )
        await conn.execute("DELETE FROM contact_ledger WHERE id = ANY($1::bigint[])", expired)
    return int(tasks) + len(expired)


async def purge_audit_events(conn: asyncpg.Connection, cutoff: datetime, limit: int) -> int:
    """Audit events from the chain's beginning, all before `cutoff`; an anchor is recorded
    first so the rest of the chain still verifies (migrations/versions/0011_retention.py)."""
    return int(await conn.fetchval("SELECT audit_events_purge($1, $2)", cutoff, limit))

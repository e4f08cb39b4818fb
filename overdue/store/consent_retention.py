"""The retention purge's SQL for consent history (`consent_events`, docs/privacy.md#retention).

A consent event is evidence that a contact was lawful, and the current consent of a channel
is the latest change, so rows never leave one by one: an account's whole history goes, and
only once the account's whole collection record is past the collection-records period (its
last activity, as for contact details in `overdue.store.retention`, plus its consent changes,
dials and receipts) and its workflow is closed (the activity asks Temporal). The horizon is
recorded first: the table's trigger (migrations/versions/0014_consent_retention.py) lets a
DELETE through only for accounts whose every event is older than it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

CONSENT_EVENTS = "consent_events"

# Nothing about the account `e.account_id` happened since `$1`, but its consent changes (the
# caller checks those): the collection record's last activity. An access request
# (`privacy.accessed`) is not activity: reading the data never extends its retention.
_RECORD_IDLE = """
    NOT EXISTS (SELECT 1 FROM customer_contacts c
                 WHERE c.account_id = e.account_id AND c.updated_at >= $1)
    AND NOT EXISTS (SELECT 1 FROM accounts a
                     WHERE a.account_id = e.account_id AND a.updated_at >= $1)
    AND NOT EXISTS (SELECT 1 FROM contact_ledger l
                     WHERE l.account_id = e.account_id AND l.updated_at >= $1)
    AND NOT EXISTS (SELECT 1 FROM call_tasks t
                     WHERE t.account_id = e.account_id
                       AND (t.updated_at >= $1 OR t.status IN ('open', 'claimed')))
    AND NOT EXISTS (SELECT 1 FROM dial_attempts d
                     WHERE d.account_id = e.account_id AND d.dialled_at >= $1)
    AND NOT EXISTS (SELECT 1 FROM compliance_receipts r
                     WHERE r.account_id = e.account_id AND r.at >= $1)
    AND NOT EXISTS (SELECT 1 FROM audit_events x
                     WHERE x.account_id = e.account_id AND x.occurred_at >= $1
                       AND x.kind <> 'privacy.accessed')
"""


async def idle_consent_accounts(
    conn: asyncpg.Connection | asyncpg.Pool, cutoff: datetime, after: str, limit: int
) -> list[str]:
    """Accounts (after `after`, in id order) with a consent history whose every change, and
    whose whole collection record, is older than `cutoff`: candidates, if their workflow is
    closed too."""
    rows = await conn.fetch(
        f"""
        SELECT e.account_id FROM (
            SELECT account_id, max(greatest(at, recorded_at)) AS last_change
              FROM consent_events WHERE account_id > $2 GROUP BY account_id) e
         WHERE e.last_change < $1 AND {_RECORD_IDLE}
         ORDER BY e.account_id LIMIT $3
        """,
        cutoff,
        after,
        limit,
    )
    return [r["account_id"] for r in rows]


async def delete_consent_histories(
    conn: asyncpg.Connection, cutoff: datetime, account_ids: Sequence[str]
) -> int:
    """Remove these accounts' whole consent histories if each is still idle since `cutoff`
    (checked again in this transaction); returns the rows removed."""
    if not account_ids:
        return 0
    await conn.execute(
        "INSERT INTO retention_horizons (data_class, cutoff) VALUES ($1, $2)",
        CONSENT_EVENTS,
        cutoff,
    )
    deleted = await conn.fetchval(
        f"""
        WITH idle AS (
            SELECT e.account_id FROM (
                SELECT account_id, max(greatest(at, recorded_at)) AS last_change
                  FROM consent_events WHERE account_id = ANY($2::text[])
                 GROUP BY account_id) e
             WHERE e.last_change < $1 AND {_RECORD_IDLE})
        , deleted AS (
            DELETE FROM consent_events c USING idle
             WHERE c.account_id = idle.account_id RETURNING 1)
        SELECT count(*) FROM deleted
        """,
        cutoff,
        list(account_ids),
    )
    return int(deleted)

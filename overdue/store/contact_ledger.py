"""Status changes and failures of contact-ledger rows, shared by activities and webhooks.

A status only moves forward (`contact_status_rank` in the schema; a trigger rejects a move
back), so late, repeated and out-of-order provider callbacks are harmless. Every status change
lands in `contact_events` through a trigger, with `status_source` saying who made it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

import asyncpg

from overdue.store import audit

# Statuses a provider reports for an outbound message (Twilio's names).
PROVIDER_STATUSES = frozenset(
    {
        "accepted",
        "scheduled",
        "queued",
        "sending",
        "sent",
        "delivered",
        "undelivered",
        "failed",
        "read",
        "canceled",
    }
)

FailureKind = Literal["provider_error", "outcome_unknown", "reconcile_failed"]


class Source(StrEnum):
    ACTIVITY = "activity"
    RECONCILIATION = "reconciliation"
    PROVIDER_CALLBACK = "provider_callback"


class CallbackResult(StrEnum):
    ADVANCED = "advanced"
    STALE = "stale"  # a duplicate or an older status: nothing changed
    UNKNOWN_MESSAGE = "unknown_message"


async def advance(
    conn: asyncpg.Connection,
    ledger_id: int,
    status: str,
    *,
    source: Source,
    error_code: str | None = None,
    error_message: str | None = None,
) -> bool:
    """Move the row to `status` if that is forward; False when it was not."""
    result: str = await conn.execute(
        """
        UPDATE contact_ledger
           SET status = $2, status_source = $3, error_code = coalesce($4, error_code),
               error_message = coalesce($5, error_message), updated_at = now()
         WHERE id = $1 AND contact_status_rank(status) < contact_status_rank($2)
        """,
        ledger_id,
        status,
        source.value,
        error_code,
        error_message,
    )
    return result != "UPDATE 0"


async def record_failure(
    conn: asyncpg.Connection,
    ledger_id: int,
    *,
    kind: FailureKind,
    source: Source,
    error_code: str | None,
    detail: str,
) -> None:
    """Append a failed attempt to the row's events; `detail` must carry no personal data."""
    await conn.execute(
        """
        WITH row AS (
            UPDATE contact_ledger SET error_code = coalesce($4, error_code), updated_at = now()
             WHERE id = $1 RETURNING id, status
        )
        INSERT INTO contact_events (ledger_id, kind, status, source, error_code, detail)
        SELECT id, $2, status, $3, $4, $5 FROM row
        """,
        ledger_id,
        kind,
        source.value,
        error_code,
        detail,
    )


async def apply_provider_status(
    conn: asyncpg.Connection,
    *,
    provider: str,
    provider_id: str,
    reference: int | None,
    status: str,
    error_code: str | None,
) -> CallbackResult:
    """A provider's status report for one of our messages.

    The row is found by the provider's message id, or by our reference (the ledger id in the
    callback URL) when the callback outran the activity recording the id.
    """
    if status not in PROVIDER_STATUSES:
        raise ValueError(f"unknown message status {status!r}")
    async with conn.transaction():
        row = await conn.fetchrow(
            """
            SELECT id, provider_id, account_id, idempotency_key, stage_id, segments
              FROM contact_ledger
             WHERE (provider = $1 AND provider_id = $2)
                OR (id = $3 AND provider_id IS NULL AND channel = 'sms')
             ORDER BY provider_id NULLS LAST LIMIT 1 FOR UPDATE
            """,
            provider,
            provider_id,
            reference,
        )
        if row is None:
            return CallbackResult.UNKNOWN_MESSAGE
        if row["provider_id"] is None:
            # The outcome of the attempt that created it is known now: nothing to reconcile.
            await conn.execute(
                """
                UPDATE contact_ledger SET provider = $2, provider_id = $3, attempted_at = NULL
                 WHERE id = $1
                """,
                row["id"],
                provider,
                provider_id,
            )
            await audit.record_event(
                conn,
                account_id=row["account_id"],
                actor="system",
                kind="sms.accepted",
                details={
                    "idempotency_key": row["idempotency_key"],
                    "stage_id": row["stage_id"],
                    "provider": provider,
                    "provider_id": provider_id,
                    "segments": row["segments"],
                    "learned_from": "status_callback",
                },
            )
        moved = await advance(
            conn, row["id"], status, source=Source.PROVIDER_CALLBACK, error_code=error_code
        )
    return CallbackResult.ADVANCED if moved else CallbackResult.STALE

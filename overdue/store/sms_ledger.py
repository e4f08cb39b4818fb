"""The SMS channel's part of a ledger row's life: the attempt's claim, the provider's message
(as the activity learns it, or as a provider's status callback reports it), and a refusal
(with the number's consent when the provider says it opted out).

A claim (`attempted_at`) marks an attempt that may reach the provider. Twilio has no
idempotency key, so the next attempt first asks the provider for the message the last one may
have created; a message belongs to at most one row (a unique index on the provider's id).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum
from typing import Literal

import asyncpg

from overdue.store import audit, sms_consent
from overdue.store.contact_ledger import (
    COLUMNS,
    PROVIDER_STATUSES,
    LedgerRow,
    Settled,
    Source,
    advance,
    ledger_row,
    lock_row,
    settle,
)


class CallbackResult(StrEnum):
    ADVANCED = "advanced"
    STALE = "stale"  # a duplicate or an older status: nothing changed
    UNKNOWN_MESSAGE = "unknown_message"


class ProviderMessageTaken(Exception):
    """Another ledger row already owns this provider message."""


@dataclass(frozen=True)
class Claim:
    """What claiming the row for an attempt found.

    `row.status` other than pending: an earlier attempt finished it (nothing was claimed).
    `wait` set: another attempt claimed it that recently and may still be in flight (nothing
    was claimed). Otherwise claimed; `reconcile` when an earlier attempt's outcome is unknown.
    """

    row: LedgerRow
    reconcile: bool = False
    wait: timedelta | None = None


async def claim_attempt(pool: asyncpg.Pool, row: LedgerRow, *, in_flight_for: timedelta) -> Claim:
    """Take the row for this attempt, unless another one claimed it less than `in_flight_for`
    ago (then `wait` says for how much longer it may be in flight)."""
    async with pool.acquire() as conn, conn.transaction():
        current = await conn.fetchrow(
            f"""
            SELECT now() - attempted_at AS age, {COLUMNS}
              FROM contact_ledger WHERE id = $1 FOR UPDATE
            """,
            row.id,
        )
        assert current is not None
        # The body is written once, with the row: the caller's opened copy is the same text.
        found = replace(ledger_row(current), body=row.body)
        if found.status != "pending":
            return Claim(found)
        age: timedelta | None = current["age"]
        if age is not None and age < in_flight_for:
            return Claim(found, wait=in_flight_for - age)
        await conn.execute(
            """
            UPDATE contact_ledger
               SET attempts = attempts + 1, attempted_at = now(), updated_at = now()
             WHERE id = $1
            """,
            row.id,
        )
    return Claim(found, reconcile=found.attempted_at is not None)


async def record_message(
    pool: asyncpg.Pool,
    row: LedgerRow,
    *,
    provider: str,
    provider_id: str,
    status: str,
    source: Literal[Source.ACTIVITY, Source.RECONCILIATION],
) -> tuple[LedgerRow, bool | None]:
    """The provider accepted (or, reconciling, was found to hold) this row's message: record
    it, release the claim, advance and audit it. Returns the row and whether this call owned
    the message: True when it did, False when a status callback had recorded it first (and
    audited it), None when the row already holds a different message (nothing changed).

    Raises ProviderMessageTaken when another row owns the message.
    """
    forward = status if status in PROVIDER_STATUSES else "queued"
    async with pool.acquire() as conn, conn.transaction():
        try:
            newly_owned: bool | None = await conn.fetchval(
                """
                WITH old AS (
                    SELECT provider_id FROM contact_ledger WHERE id = $1 FOR UPDATE
                )
                UPDATE contact_ledger l
                   SET provider = $2, provider_id = $3, attempted_at = NULL, updated_at = now()
                  FROM old
                 WHERE l.id = $1 AND (old.provider_id IS NULL OR old.provider_id = $3)
                RETURNING old.provider_id IS NULL
                """,
                row.id,
                provider,
                provider_id,
            )
        except asyncpg.UniqueViolationError:
            raise ProviderMessageTaken(provider_id) from None
        if newly_owned is not None:
            await advance(conn, row.id, forward, source=source)
        if newly_owned:
            await audit_accepted(
                conn,
                account_id=row.account_id,
                idempotency_key=row.idempotency_key,
                stage_id=row.stage_id,
                provider=provider,
                provider_id=provider_id,
                segments=row.segments,
                learned_from="provider_lookup" if source is Source.RECONCILIATION else "send",
            )
        fresh = await lock_row(conn, row.id, opened=row)
    return fresh, newly_owned


async def refuse(
    pool: asyncpg.Pool,
    row: LedgerRow,
    *,
    status: Literal["rejected", "blocked"],
    error_code: str | None,
    error_message: str | None,
    refusal: str,
    provider_opted_out: bool,
) -> None:
    """The message is refused for good: `rejected` by the provider, or `blocked` by our own
    opt-out records; audited as `sms.<status>`. When the provider says the number opted out
    (`provider_opted_out`), every account with that number stops getting SMS, not just this."""
    assert row.recipient is not None
    async with pool.acquire() as conn, conn.transaction():
        await settle(
            conn,
            row,
            Settled(
                status=status,
                error_code=error_code,
                error_message=error_message,
                audit_kind=f"sms.{status}",
                audit_details={
                    "idempotency_key": row.idempotency_key,
                    "stage_id": row.stage_id,
                    "error_code": error_code,
                    "refusal": refusal,
                },
            ),
        )
        if provider_opted_out and await sms_consent.set_consent(
            conn, row.recipient, opted_out=True, source="provider_error"
        ):
            await audit.record_event(
                conn,
                account_id=row.account_id,
                actor="twilio",
                kind="sms.consent_changed",
                details={"opted_out": True, "source": "provider_error"},
            )


async def audit_accepted(
    conn: asyncpg.Connection,
    *,
    account_id: str,
    idempotency_key: str,
    stage_id: str,
    provider: str,
    provider_id: str,
    segments: int | None,
    learned_from: Literal["send", "provider_lookup", "status_callback"],
) -> None:
    """The audit row of an SMS the provider accepted, written once per message."""
    await audit.record_event(
        conn,
        account_id=account_id,
        actor="system",
        kind="sms.accepted",
        details={
            "idempotency_key": idempotency_key,
            "stage_id": stage_id,
            "provider": provider,
            "provider_id": provider_id,
            "segments": segments,
            "learned_from": learned_from,
        },
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
            f"""
            SELECT {CALLBACK_COLUMNS}
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
        return await adopt_and_advance(
            conn,
            row,
            provider=provider,
            provider_id=provider_id,
            status=status,
            error_code=error_code,
        )


# What a status callback reads of the row it found (and locked) before adopt_and_advance.
CALLBACK_COLUMNS = "id, provider_id, account_id, idempotency_key, stage_id, segments"


async def adopt_and_advance(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    *,
    provider: str,
    provider_id: str,
    status: str,
    error_code: str | None,
) -> CallbackResult:
    """A status callback's row (CALLBACK_COLUMNS, locked) takes the provider's message id when
    it held another or none; when it held none, the outcome of the attempt that sent it is known
    now (nothing to reconcile) and the message is audited as accepted. Then the status moves
    forward only, so repeated and late callbacks change nothing."""
    if row["provider_id"] != provider_id:
        await conn.execute(
            """
            UPDATE contact_ledger SET provider = $2, provider_id = $3, attempted_at = NULL
             WHERE id = $1
            """,
            row["id"],
            provider,
            provider_id,
        )
    if row["provider_id"] is None:
        await audit_accepted(
            conn,
            account_id=row["account_id"],
            idempotency_key=row["idempotency_key"],
            stage_id=row["stage_id"],
            provider=provider,
            provider_id=provider_id,
            segments=row["segments"],
            learned_from="status_callback",
        )
    moved = await advance(
        conn, row["id"], status, source=Source.PROVIDER_CALLBACK, error_code=error_code
    )
    return CallbackResult.ADVANCED if moved else CallbackResult.STALE

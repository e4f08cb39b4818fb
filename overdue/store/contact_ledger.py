"""The contact ledger: one row per contact (SMS, notify, call task), unique by idempotency key,
written before the provider is called; and every change to it over the contact's life.

A status only moves forward (`contact_status_rank` in the schema; a trigger rejects a move
back), so late, repeated and out-of-order provider callbacks are harmless. Every status change
lands in `contact_events` through a trigger, with `status_source` saying who made it.

The row's life: `create_or_get` (written once, whatever the channel), `advance` (a status
forward), `record_failure` (an attempt failed or its outcome is unknown), `settle` (the attempt
ended: sent, delivered, refused, blocked, withheld; audited with it). The SMS channel's claims,
provider messages and status callbacks are in `sms_ledger`, the pre-send check in `contact_gate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import asyncpg

from overdue.store import audit, receipts
from overdue.store.receipts import Receipt
from overdue.store.sealed_texts import open_text, open_texts, seal_text
from overdue.store.transactions import Db, transaction

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
Channel = Literal["sms", "notify", "call_task"]

COLUMNS = """
    id, idempotency_key, account_id, channel, stage_id, status, recipient, body, provider,
    provider_id, error_code, response_code, segments, encoding, attempted_at, cleared_at,
    created_at
"""


class Source(StrEnum):
    ACTIVITY = "activity"
    RECONCILIATION = "reconciliation"
    PROVIDER_CALLBACK = "provider_callback"


@dataclass(frozen=True)
class LedgerRow:
    """A contact as the ledger has it. `recipient` and `body` are personal: never logged."""

    id: int
    idempotency_key: str
    account_id: str
    channel: str
    stage_id: str
    status: str
    recipient: str | None
    body: str | None
    provider: str | None
    provider_id: str | None
    error_code: str | None
    response_code: int | None
    segments: int | None  # None on SMS rows written before segments were counted
    encoding: str | None
    attempted_at: datetime | None  # an SMS attempt may be at the provider (its claim)
    cleared_at: datetime | None  # when the pre-send check last let it go (contact_gate)
    created_at: datetime


def ledger_row(record: asyncpg.Record) -> LedgerRow:
    """The row as stored (its body sealed: `opened_row` opens it)."""
    return LedgerRow(**{name: record[name] for name in LedgerRow.__dataclass_fields__})


async def opened_row(db: Db, record: asyncpg.Record) -> LedgerRow:
    """The row with its body opened; None for the body of an erased account (nothing to send)."""
    row = ledger_row(record)
    return replace(row, body=await open_text(db, row.body, erased=None))


@dataclass(frozen=True)
class NewContact:
    """A contact's row as written before anything is sent: fixed for every later attempt."""

    idempotency_key: str
    account_id: str
    channel: Channel
    stage_id: str
    workflow_run_id: str | None
    template_id: str | None = None
    body: str | None = None
    recipient: str | None = None
    segments: int | None = None
    encoding: str | None = None
    provider: str | None = None


class KeyTaken(Exception):
    """The idempotency key already belongs to another channel's or account's contact."""

    def __init__(self, key: str, channel: str, account_id: str) -> None:
        super().__init__(
            f"idempotency key {key!r} already belongs to a {channel} contact of account "
            f"{account_id!r}"
        )


async def find(
    db: Db, idempotency_key: str, *, channel: Channel, account_id: str
) -> LedgerRow | None:
    """The key's row, None when there is none; KeyTaken when it is another contact's."""
    found = await db.fetchrow(
        f"SELECT {COLUMNS} FROM contact_ledger WHERE idempotency_key = $1", idempotency_key
    )
    return None if found is None else _owned(await opened_row(db, found), channel, account_id)


async def create_or_get(db: Db, new: NewContact, receipt: Receipt | None = None) -> LedgerRow:
    """The contact's row, written `pending` if it is new, with its compliance receipt (if
    given) in the same transaction; KeyTaken when the key is another contact's. A concurrent
    duplicate's row wins and is returned as it is."""
    created = await create(db, new, receipt)
    if created is not None:
        return created
    row = await find(db, new.idempotency_key, channel=new.channel, account_id=new.account_id)
    assert row is not None  # rows are never deleted
    return row


async def create(
    db: Db, new: NewContact, receipt: Receipt | None = None, *, claim: bool = False
) -> LedgerRow | None:
    """The contact's row written `pending` with its receipt, as `create_or_get`; None when the
    key has a row already (nothing written). `claim`: the row is written claimed by the
    caller's attempt (`sms_ledger.claim_attempt`'s first claim, in the same statement)."""
    body = None if new.body is None else await seal_text(db, new.account_id, new.body)
    async with transaction(db) as conn:
        inserted = await conn.fetchrow(
            f"""
            INSERT INTO contact_ledger
                (idempotency_key, account_id, workflow_run_id, channel, stage_id, template_id,
                 body, recipient, segments, encoding, status, provider, attempts, attempted_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11,
                    CASE WHEN $12 THEN 1 ELSE 0 END, CASE WHEN $12 THEN now() END)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING {COLUMNS}
            """,
            new.idempotency_key,
            new.account_id,
            new.workflow_run_id,
            new.channel,
            new.stage_id,
            new.template_id,
            body,
            new.recipient,
            new.segments,
            new.encoding,
            new.provider,
            claim,
        )
        if inserted is None:
            return None
        if receipt is not None:
            await receipts.write_receipt(conn, receipt)
    # The body as written: no need to read the data key again to open what was just sealed.
    return replace(ledger_row(inserted), body=new.body)


async def lock_row(
    conn: asyncpg.Connection, ledger_id: int, *, opened: LedgerRow | None = None
) -> LedgerRow:
    """The row as it is now, locked for the rest of the caller's transaction. `opened`: the
    same row as the caller read it, whose opened body is taken instead of opening it again (a
    body is written once, with the row)."""
    found = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM contact_ledger WHERE id = $1 FOR UPDATE", ledger_id
    )
    assert found is not None
    if opened is not None:
        assert opened.id == ledger_id
        return replace(ledger_row(found), body=opened.body)
    return await opened_row(conn, found)


async def mark_cleared(conn: asyncpg.Connection, ledger_id: int) -> None:
    """The pre-send check let the contact go now (its status is untouched: still pending)."""
    await conn.execute("UPDATE contact_ledger SET cleared_at = now() WHERE id = $1", ledger_id)


def _owned(row: LedgerRow, channel: str, account_id: str) -> LedgerRow:
    if (row.channel, row.account_id) != (channel, account_id):
        raise KeyTaken(row.idempotency_key, row.channel, row.account_id)
    return row


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


@dataclass(frozen=True)
class Settled:
    """How an attempt ended, for `settle`: the status and what the provider answered."""

    status: str
    error_code: str | None = None
    error_message: str | None = None
    response_code: int | None = None
    provider: str | None = None  # replaces the row's provider (e.g. 'recording')
    audit_kind: str | None = None  # audited as the system when set
    audit_details: Mapping[str, Any] = field(default_factory=dict)


async def settle(db: Db, row: LedgerRow, outcome: Settled) -> bool:
    """The attempt under way ended: its claim is released, the provider's answer kept, the
    status moved forward and (with an `audit_kind`) audited, all in one transaction (the
    caller's, when given a connection). False when the status was not forward."""
    async with transaction(db) as conn:
        await conn.execute(
            """
            UPDATE contact_ledger
               SET attempted_at = NULL, response_code = coalesce($2, response_code),
                   provider = coalesce($3, provider)
             WHERE id = $1
            """,
            row.id,
            outcome.response_code,
            outcome.provider,
        )
        moved = await advance(
            conn,
            row.id,
            outcome.status,
            source=Source.ACTIVITY,
            error_code=outcome.error_code,
            error_message=outcome.error_message,
        )
        if outcome.audit_kind is not None:
            await audit.record_event(
                conn,
                account_id=row.account_id,
                actor="system",
                kind=outcome.audit_kind,
                details=outcome.audit_details,
            )
    return moved


async def record_failure(
    db: Db,
    ledger_id: int,
    *,
    kind: FailureKind,
    source: Source,
    error_code: str | None,
    detail: str,
    release_claim: bool = False,
) -> None:
    """Append a failed attempt to the row's events; `detail` must carry no personal data.
    `release_claim`: the provider certainly has nothing, the next attempt need not reconcile."""
    await db.execute(
        """
        WITH row AS (
            UPDATE contact_ledger
               SET error_code = coalesce($4, error_code), updated_at = now(),
                   attempted_at = CASE WHEN $6::boolean THEN NULL ELSE attempted_at END
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
        release_claim,
    )


async def account_contacts(db: Db, account_id: str, limit: int) -> list[dict[str, Any]]:
    """The account's contacts, newest first, as the API shows them (with the message text,
    for a reader whose key may read accounts)."""
    rows = await db.fetch(
        """
        SELECT idempotency_key, channel, stage_id, status, template_id, body, provider,
               provider_id, error_code, created_at, updated_at
          FROM contact_ledger WHERE account_id = $1
         ORDER BY created_at DESC, id DESC LIMIT $2
        """,
        account_id,
        limit,
    )
    bodies = await open_texts(db, (row["body"] for row in rows))
    return [{**dict(row), "body": body} for row, body in zip(rows, bodies, strict=True)]

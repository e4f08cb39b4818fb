"""What Postgres holds about one account, read for its customer's right of access
(`overdue.subject_access`): raw rows, texts still sealed. The use case opens them through
`overdue.store.sealed_texts`, the one module that may.

Every reader takes the caller's connection, so the whole export is read in one snapshot.
"""

from __future__ import annotations

import asyncpg


async def contact_row(conn: asyncpg.Connection, account_id: str) -> asyncpg.Record | None:
    """The customer's details (name and postal address sealed); None once the retention purge
    removed them."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        SELECT full_name, phone_e164, time_zone, locale, updated_at, postal_address
          FROM customer_contacts WHERE account_id = $1
        """,
        account_id,
    )
    return row


async def numbers(conn: asyncpg.Connection, account_id: str) -> list[str]:
    """Every number the account had that Postgres still knows: on file, and those its SMS went
    to (erasure and the purge blank them, so an erased account has none)."""
    rows = await conn.fetch(
        """
        SELECT phone_e164 FROM customer_contacts WHERE account_id = $1 AND phone_e164 <> ''
        UNION
        SELECT recipient FROM contact_ledger WHERE account_id = $1 AND recipient IS NOT NULL
        """,
        account_id,
    )
    return sorted(row[0] for row in rows)


async def sms_sent(conn: asyncpg.Connection, account_id: str) -> list[asyncpg.Record]:
    """The SMS the ledger holds for the account, bodies sealed (NULL once purged)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT created_at, stage_id, template_id, status, body FROM contact_ledger
         WHERE account_id = $1 AND channel = 'sms' ORDER BY created_at, id
        """,
        account_id,
    )
    return rows


async def sms_received(conn: asyncpg.Connection, phones: list[str]) -> list[asyncpg.Record]:
    """The SMS these numbers sent, bodies sealed (the purge and erasure blank them)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT received_at, kind, body FROM inbound_messages
         WHERE from_e164 = ANY($1::text[]) ORDER BY received_at, id
        """,
        phones,
    )
    return rows


async def free_texts(conn: asyncpg.Connection, account_id: str) -> list[asyncpg.Record]:
    """Reasons, resolutions, call notes and other texts typed about the account, sealed."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT kind, created_at, text FROM free_texts
         WHERE account_id = $1 ORDER BY created_at, id
        """,
        account_id,
    )
    return rows


async def dialled_refs(conn: asyncpg.Connection, account_id: str) -> list[bytes]:
    """The keyed references of the numbers agents dialled for the account."""
    rows = await conn.fetch(
        "SELECT DISTINCT number_ref FROM dial_attempts WHERE account_id = $1", account_id
    )
    return [bytes(row[0]) for row in rows]


async def opt_outs(conn: asyncpg.Connection, refs: list[bytes]) -> list[asyncpg.Record]:
    """The SMS opt-out state of these number references (absent: never changed)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT number_ref, opted_out, source, changed_at FROM sms_opt_outs
         WHERE number_ref = ANY($1::bytea[]) ORDER BY number_ref
        """,
        refs,
    )
    return rows


async def call_tasks(conn: asyncpg.Connection, account_id: str) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT id, stage_id, status, outcome, created_at, due_at, outcome_at FROM call_tasks
         WHERE account_id = $1 ORDER BY created_at, id
        """,
        account_id,
    )
    return rows


async def dial_attempts(conn: asyncpg.Connection, account_id: str) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT task_id, dialled_at, outcome FROM dial_attempts
         WHERE account_id = $1 ORDER BY dialled_at, id
        """,
        account_id,
    )
    return rows


async def audit_events(conn: asyncpg.Connection, account_id: str) -> list[asyncpg.Record]:
    """The audit trail's events for the account (kind, actor, time; details are not copied:
    they refer to texts by id, and those are exported as free texts)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT kind, actor, occurred_at FROM audit_events
         WHERE account_id = $1 ORDER BY chain_seq
        """,
        account_id,
    )
    return rows


async def receipts(conn: asyncpg.Connection, account_id: str) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT at, channel, stage_id FROM compliance_receipts
         WHERE account_id = $1 ORDER BY at, id
        """,
        account_id,
    )
    return rows

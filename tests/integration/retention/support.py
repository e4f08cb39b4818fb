"""Rows of every data class, written with the instants a retention test chooses."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import asyncpg


async def ledger_row(
    conn: asyncpg.Connection, account_id: str, at: datetime, body: str = "Hello Ms Li"
) -> int:
    row_id: int = await conn.fetchval(
        """
        INSERT INTO contact_ledger (idempotency_key, account_id, channel, stage_id, body,
                                    status, recipient, created_at, updated_at)
        VALUES ($1, $2, 'sms', 'day-1', $3, 'delivered', '+8613800000000', $4, $4) RETURNING id
        """,
        uuid.uuid4().hex,
        account_id,
        body,
        at,
    )
    return row_id


async def inbound(conn: asyncpg.Connection, at: datetime) -> int:
    row_id: int = await conn.fetchval(
        "INSERT INTO inbound_messages (message_sid, from_e164, body, kind, received_at) "
        "VALUES ($1, '+8613800000001', 'I will pay on Friday', 'reply', $2) RETURNING id",
        "SM" + uuid.uuid4().hex,
        at,
    )
    return row_id


async def free_text(conn: asyncpg.Connection, account_id: str, at: datetime) -> str:
    text_id = f"txt-{uuid.uuid4().hex}"
    await conn.execute(
        "INSERT INTO free_texts (id, account_id, kind, text, created_at) "
        "VALUES ($1, $2, 'call.note', 'lost her job in May', $3)",
        text_id,
        account_id,
        at,
    )
    return text_id


async def contact(conn: asyncpg.Connection, account_id: str, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO customer_contacts (account_id, full_name, phone_e164, time_zone, locale, "
        "created_at, updated_at) VALUES ($1, 'Li Na', '+8613800000002', 'Asia/Shanghai', "
        "'zh-CN', $2, $2)",
        account_id,
        at,
    )


async def call_task(conn: asyncpg.Connection, account_id: str, at: datetime) -> int:
    task_id: int = await conn.fetchval(
        "INSERT INTO call_tasks (idempotency_key, account_id, stage_id, queue, due_at, status, "
        "created_at, updated_at) VALUES ($1, $2, 'day-15', 'collections', $3, 'done', $3, $3) "
        "RETURNING id",
        uuid.uuid4().hex,
        account_id,
        at,
    )
    return task_id


async def dial(conn: asyncpg.Connection, task_id: int, account_id: str, at: datetime) -> int:
    row_id: int = await conn.fetchval(
        """
        INSERT INTO dial_attempts (task_id, account_id, number_ref, agent_id, dialled_at,
            time_zone, local_at, outcome, unanswered, conversation, checked)
        VALUES ($1, $2, sha256('x'::bytea), 'agent-1', $3, 'UTC',
                ($3::timestamptz AT TIME ZONE 'UTC'), 'no_answer', true, false, '{}')
        RETURNING id
        """,
        task_id,
        account_id,
        at,
    )
    return row_id


async def receipt(conn: asyncpg.Connection, account_id: str, at: datetime) -> int:
    row_id: int = await conn.fetchval(
        """
        INSERT INTO compliance_receipts (contact_key, account_id, channel, stage_id, basis, at,
            time_zone, local_time, sms_today, sms_7_days, calls_today, calls_7_days, sms_consent)
        VALUES ($1, $2, 'sms', 'day-1', 'stage', $3, 'UTC',
                ($3::timestamptz AT TIME ZONE 'UTC'), 1, 1, 0, 0, 'never_changed')
        RETURNING id
        """,
        uuid.uuid4().hex,
        account_id,
        at,
    )
    return row_id


async def audit(
    conn: asyncpg.Connection, account_id: str | None, at: datetime, kind: str = "test.event"
) -> int:
    row_id: int = await conn.fetchval(
        "INSERT INTO audit_events (account_id, actor, kind, details, occurred_at) "
        "VALUES ($1, 'system', $4, $2::jsonb, $3) RETURNING id",
        account_id,
        json.dumps({"at": at.isoformat()}),
        at,
        kind,
    )
    return row_id


async def ids(conn: asyncpg.Connection, table: str, column: str = "id") -> set[object]:
    return {r[0] for r in await conn.fetch(f"SELECT {column} FROM {table}")}


async def consent(
    conn: asyncpg.Connection, account_id: str, at: datetime, *, granted: bool = True
) -> int:
    """A consent change given and recorded at `at`."""
    row_id: int = await conn.fetchval(
        "INSERT INTO consent_events (account_id, change_id, channel, granted, source, at, "
        "recorded_at, actor) VALUES ($1, $2, 'sms', $3, 'contract', $4, $4, 'api:backend') "
        "RETURNING id",
        account_id,
        uuid.uuid4().hex,
        granted,
        at,
    )
    return row_id


async def selfservice_link(
    conn: asyncpg.Connection, account_id: str, expires_at: datetime
) -> bytes:
    """A link with one session and one one-time code request (both go with the link)."""
    token = uuid.uuid4().bytes + uuid.uuid4().bytes
    await conn.execute(
        "INSERT INTO selfservice_links (token_hash, account_id, episode_id, attempt_key, "
        "created_at, expires_at) "
        "VALUES ($1, $2, 'ep-1', $3, $4::timestamptz - interval '7 days', $4)",
        token,
        account_id,
        uuid.uuid4().hex,
        expires_at,
    )
    await conn.execute(
        "INSERT INTO selfservice_sessions (session_hash, token_hash, account_id, csrf_token, "
        "created_at, expires_at) VALUES ($1, $2, $3, 'csrf', $4::timestamptz - interval '1 day', "
        "$4::timestamptz - interval '23 hours')",
        uuid.uuid4().bytes,
        token,
        account_id,
        expires_at,
    )
    await conn.execute(
        "INSERT INTO selfservice_codes (request_key, token_hash, account_id, requested_at, "
        "lifetime) VALUES ($1, $2, $3, $4::timestamptz - interval '1 day', interval '10 minutes')",
        uuid.uuid4().hex,
        token,
        account_id,
        expires_at,
    )
    return token

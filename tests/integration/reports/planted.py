"""A small planted dataset for November 2026 (UTC days), with the figures worked out by hand in
test_report_figures.py. Rows are written as the product writes them (the audit trail's chain
trigger included), with their times set."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)
POLICY = {"promise": {"grace_days": 2}, "hardship": {"grace_days": 3}}
BY_DIGEST = {"p2"}  # p1's accounts carry their policy whole (started before that release)


def at(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


async def account(
    conn: asyncpg.Connection, account_id: str, product: str, policy: str, due: date, amount: int
) -> None:
    await conn.execute(
        "INSERT INTO accounts (account_id, product, currency) VALUES ($1, $2, 'CNY')",
        account_id,
        product,
    )
    start_input: dict[str, Any] = {"policy": {"id": policy, **POLICY}}
    if policy in BY_DIGEST:  # started on release policy-by-digest-2026-12: the version stored
        body = json.dumps(start_input.pop("policy"))
        digest = hashlib.sha256(body.encode()).hexdigest()
        await conn.execute(
            "INSERT INTO policy_versions (digest, policy_id, version, body) "
            "VALUES ($1, $2, 1, $3::jsonb) ON CONFLICT DO NOTHING",
            digest,
            policy,
            body,
        )
        start_input["policy_ref"] = {"id": policy, "version": 1, "digest": digest}
    await conn.execute(
        """
        INSERT INTO account_bills (account_id, bill_id, amount_minor, currency, due_date,
                                   start_input, created_at, delivered_at)
        VALUES ($1, 'b1', $2, 'CNY', $3, $4::jsonb, $5, $5)
        """,
        account_id,
        amount,
        due,
        json.dumps(start_input),
        datetime(due.year, due.month, due.day, 1, tzinfo=UTC),
    )


async def task(conn: asyncpg.Connection, account_id: str, queue: str, agent: str) -> int:
    task_id: int = await conn.fetchval(
        """
        INSERT INTO call_tasks (idempotency_key, account_id, stage_id, queue, due_at, status,
                                claimed_by, claimed_at, created_at, updated_at)
        VALUES ($1, $2, 'd2_call', $3, $4, 'claimed', $5, $4, $4, $4) RETURNING id
        """,
        f"{account_id}/e1/d2_call/1",
        account_id,
        queue,
        at(1, 8),
        agent,
    )
    return task_id


async def dial(
    conn: asyncpg.Connection,
    task_id: int,
    account_id: str,
    agent: str,
    when: datetime,
    outcome: str,
) -> None:
    await conn.execute(
        """
        INSERT INTO dial_attempts (task_id, account_id, number_ref, agent_id, dialled_at,
                                   time_zone, local_at, outcome, unanswered, conversation, checked)
        VALUES ($1, $2, $3, $4, $5, 'UTC', $6, $7, $8, $9, '{}'::jsonb)
        """,
        task_id,
        account_id,
        bytes(32),
        agent,
        when,
        when.replace(tzinfo=None),
        outcome,
        outcome in ("no_answer", "busy", "voicemail"),
        outcome in ("reached", "refused", "wrong_party"),
    )


async def audit(
    conn: asyncpg.Connection, account_id: str, actor: str, kind: str, when: datetime, **details: Any
) -> None:
    await conn.execute(
        "INSERT INTO audit_events (account_id, actor, kind, details, occurred_at) "
        "VALUES ($1, $2, $3, $4::jsonb, $5)",
        account_id,
        actor,
        kind,
        json.dumps(details),
        when,
    )


async def payment(conn: asyncpg.Connection, account_id: str, when: datetime, amount: int) -> None:
    await audit(
        conn, account_id, "backend", "payment.reported", when,
        payment_id=f"p-{account_id}-{when.day}", amount_minor=amount, currency="CNY",
    )  # fmt: skip


async def event(
    conn: asyncpg.Connection, account_id: str, kind: str, event_id: str, when: datetime
) -> None:
    await conn.execute(
        "INSERT INTO reported_events (account_id, kind, event_id, reported_at, delivered_at) "
        "VALUES ($1, $2, $3, $4, $4)",
        account_id,
        kind,
        event_id,
        when,
    )


async def contact(
    conn: asyncpg.Connection, account_id: str, channel: str, stage: str, when: datetime
) -> None:
    await conn.execute(
        "INSERT INTO contact_ledger (idempotency_key, account_id, channel, stage_id, status, "
        "created_at, updated_at) VALUES ($1, $2, $3, $4, 'sent', $5, $5)",
        f"{account_id}/e1/{stage}/1",
        account_id,
        channel,
        stage,
        when,
    )


async def plant(pool: asyncpg.Pool, prefix: str = "") -> None:
    """The four accounts; `prefix` keeps their ids apart on a shared database."""
    async with pool.acquire() as conn, conn.transaction():
        await _a1(conn, prefix)
        await _a2(conn, prefix)
        await _a3(conn, prefix)
        await _a4(conn, prefix)


async def _a1(conn: asyncpg.Connection, p: str) -> None:
    """1-30 at the start; reached, a promise kept by a payment; rolls to 31-60."""
    await account(conn, p + "a1", "card", "p1", date(2026, 10, 20), 100_000)
    t1 = await task(conn, p + "a1", "general", "agent-a")
    await contact(conn, p + "a1", "sms", "d1", at(1))
    await dial(conn, t1, p + "a1", "agent-a", at(2), "no_answer")
    await dial(conn, t1, p + "a1", "agent-a", at(3), "reached")
    await audit(conn, p + "a1", "agent-a", "call.outcome", at(3), task_id=t1, outcome="reached")
    await audit(
        conn, p + "a1", "agent-a", "promise.recorded", at(3, 11),
        task_id=t1, amount_minor=40_000, promised_date="2026-11-10",
    )  # fmt: skip
    await payment(conn, p + "a1", at(8), 40_000)


async def _a2(conn: asyncpg.Connection, p: str) -> None:
    """31-60 at the start and the end; a third party on the line, a promise broken, a
    complaint and an escalation still open."""
    await account(conn, p + "a2", "card", "p1", date(2026, 10, 1), 50_000)
    t2 = await task(conn, p + "a2", "general", "agent-b")
    await contact(conn, p + "a2", "call_task", "d2_call", at(5, 9))
    await dial(conn, t2, p + "a2", "agent-b", at(5), "wrong_party")
    await audit(
        conn, p + "a2", "agent-b", "promise.recorded", at(5, 11),
        task_id=t2, amount_minor=30_000, promised_date="2026-11-12",
    )  # fmt: skip
    await audit(conn, p + "a2", "agent-b", "call.outcome", at(6), task_id=t2, outcome="complaint")
    await audit(conn, p + "a2", "agent-b", "account.escalated", at(6), task_id=t2)


async def _a3(conn: asyncpg.Connection, p: str) -> None:
    """1-30 at the start; a dispute closed in 6 days; paid in full (cured) on the 20th."""
    await account(conn, p + "a3", "loan", "p2", date(2026, 10, 25), 20_000)
    await event(conn, p + "a3", "dispute.opened", "d-3", at(4))
    await event(conn, p + "a3", "dispute.closed", "d-3", at(10))
    await payment(conn, p + "a3", at(20), 20_000)


async def _a4(conn: asyncpg.Connection, p: str) -> None:
    """31-60 at the start, 61-90 at the end; a plan agreed and broken; a dispute still open."""
    await account(conn, p + "a4", "loan", "p2", date(2026, 9, 15), 80_000)
    await event(conn, p + "a4", "dispute.opened", "d-4", at(2))
    await audit(
        conn, p + "a4", "sup-1", "hardship.decided", at(1, 12), approve=True, instalments=2,
        plan=[{"due_date": "2026-11-10", "amount_minor": 40_000},
              {"due_date": "2026-12-10", "amount_minor": 40_000}],
    )  # fmt: skip

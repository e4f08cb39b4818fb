"""Reported events (overdue/store/reported_events.py): once per (account, kind, id), with their
audit row; and migration 0005, which fills them from the audit trail."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from alembic import command

from overdue.migrate import alembic_config, upgrade_async
from overdue.store import reported_events
from tests.integration.side_effects.conftest import TwilioStack

pytestmark = pytest.mark.integration


async def test_an_event_is_recorded_once_per_account_kind_and_id(
    twilio_stack: TwilioStack,
) -> None:
    pool = twilio_stack.pool
    account, other = (f"acct-{uuid.uuid4().hex[:10]}" for _ in range(2))

    async def record(account_id: str, kind: str, event_id: str) -> bool:
        async with pool.acquire() as conn, conn.transaction():
            return await reported_events.record_once(
                conn,
                account_id=account_id,
                kind=kind,
                event_id=event_id,
                actor="api:tests",
                details={"id": event_id},
            )

    assert await record(account, "dispute.opened", "D-1")
    assert not await record(account, "dispute.opened", "D-1")  # a replay: nothing written
    assert await record(account, "dispute.closed", "D-1")  # another kind, the same id
    assert await record(other, "dispute.opened", "D-1")  # another account
    kinds = await pool.fetch(
        "SELECT kind FROM audit_events WHERE account_id = $1 ORDER BY id", account
    )
    assert [k["kind"] for k in kinds] == ["dispute.opened", "dispute.closed"]


async def test_unseen_payments_are_those_since_the_run_began_the_decision_did_not_know(
    twilio_stack: TwilioStack,
) -> None:
    pool = twilio_stack.pool
    account = f"acct-{uuid.uuid4().hex[:10]}"
    await pool.execute(
        """
        INSERT INTO reported_events (account_id, kind, event_id, reported_at) VALUES
            ($1, 'payment.reported', 'OLD', now() - interval '1 hour'),
            ($1, 'payment.reported', 'KNOWN', now()),
            ($1, 'payment.reported', 'NEW', now()),
            ($1, 'hardship.reported', 'H-1', now())
        """,
        account,
    )
    since = datetime.now(UTC) - timedelta(minutes=1)
    unseen = await reported_events.unseen_payments(pool, account, since=since, known=["KNOWN"])
    assert unseen == 1


def day(of_november: int) -> datetime:
    return datetime(2026, 11, of_november, 10, tzinfo=UTC)


async def test_the_migration_fills_reported_events_from_the_audit_trail(
    scratch_database: str,
) -> None:
    await upgrade_async(scratch_database, "0004")
    db = await asyncpg.connect(scratch_database)
    try:
        await db.execute(
            """
            INSERT INTO audit_events (account_id, actor, kind, details, occurred_at) VALUES
                ('a1', 'api:billing', 'payment.reported', '{"payment_id": "P-1"}',
                 '2026-11-01T10:00:00Z'),
                ('a1', 'billing', 'payment.reported', '{"payment_id": "P-1"}',
                 '2026-11-02T10:00:00Z'),
                ('a2', 'api:billing', 'payment.reported', '{"payment_id": "P-1"}',
                 '2026-11-03T10:00:00Z'),
                ('a1', 'api:crm', 'hardship.reported', '{"report_id": "H-1"}',
                 '2026-11-04T10:00:00Z'),
                ('a1', 'api:crm', 'dispute.opened', '{"dispute_id": "D-1"}',
                 '2026-11-05T10:00:00Z'),
                ('a1', 'api:crm', 'dispute.closed', '{"dispute_id": "D-1"}',
                 '2026-11-06T10:00:00Z'),
                ('a1', 'api:crm', 'contact.ceased', '{"request_id": "C-1"}',
                 '2026-11-07T10:00:00Z'),
                ('a1', 'system', 'sms.accepted', '{"payment_id": "not-an-event"}',
                 '2026-11-08T10:00:00Z'),
                ('a1', 'api:billing', 'payment.reported', '{}', '2026-11-09T10:00:00Z'),
                (NULL, 'ops', 'payment.reported', '{"payment_id": "P-9"}',
                 '2026-11-10T10:00:00Z')
            """
        )
        await upgrade_async(scratch_database, "head")
        rows = await db.fetch(
            "SELECT account_id, kind, event_id, reported_at FROM reported_events ORDER BY 4"
        )
        assert [tuple(r) for r in rows] == [
            ("a1", "payment.reported", "P-1", day(1)),  # the first report counts
            ("a2", "payment.reported", "P-1", day(3)),
            ("a1", "hardship.reported", "H-1", day(4)),
            ("a1", "dispute.opened", "D-1", day(5)),
            ("a1", "dispute.closed", "D-1", day(6)),
            ("a1", "contact.ceased", "C-1", day(7)),
        ]
        assert await db.fetchval("SELECT count(*) FROM audit_events") == 10  # untouched

        await asyncio.to_thread(command.downgrade, alembic_config(scratch_database), "0004")
        assert await db.fetchval("SELECT to_regclass('reported_events')") is None
        assert await db.fetchval("SELECT count(*) FROM audit_events") == 10
    finally:
        await db.close()

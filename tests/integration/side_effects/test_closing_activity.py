"""The closing activity against embedded Postgres: in one transaction it audits the events no
API call recorded and cancels the account's open call tasks, and a retry does neither twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from temporalio.testing import ActivityEnvironment

from activities.closing import ClosingActivities
from overdue.store import call_tasks, reported_events
from tests.integration.side_effects.conftest import TwilioStack
from workflows.closing import CloseProcessInput
from workflows.event_audit import DIRECT_ACTOR, ReceivedEvent

pytestmark = pytest.mark.integration


async def test_closing_audits_direct_events_once_and_cancels_the_open_tasks_once(
    twilio_stack: TwilioStack,
) -> None:
    pool = twilio_stack.pool
    account = f"acct-{uuid.uuid4().hex[:10]}"
    async with pool.acquire() as conn, conn.transaction():
        task, _ = await call_tasks.create_task(
            conn,
            idempotency_key=f"{account}/e/call/1",
            account_id=account,
            stage_id="d3_call",
            queue="collections",
            priority=0,
            due_at=datetime.now(UTC),
        )
        # The API recorded this payment before it signalled it.
        await reported_events.record_once(
            conn,
            account_id=account,
            kind="payment.reported",
            event_id="P-api",
            actor="api:bank",
            details={"payment_id": "P-api"},
        )
    events = [
        ReceivedEvent(kind="payment.reported", event_id="P-api", details={}),
        ReceivedEvent(kind="dispute.opened", event_id="D-direct", details={"dispute_id": "D"}),
    ]
    input = CloseProcessInput(account_id=account, events=events, cancel_reason="resolved")
    closing = ClosingActivities(pool)

    first = await ActivityEnvironment().run(closing.close_process, input)
    again = await ActivityEnvironment().run(closing.close_process, input)

    assert (first.recorded, first.cancelled) == (1, 1)
    assert (again.recorded, again.cancelled) == (0, 0)
    rows = await pool.fetch(
        "SELECT kind, actor, details FROM audit_events WHERE account_id = $1 ORDER BY id", account
    )
    assert [(r["kind"], r["actor"]) for r in rows] == [
        ("payment.reported", "api:bank"),
        ("dispute.opened", DIRECT_ACTOR),
        ("call_task.cancelled", "system"),
    ]
    status = await pool.fetchval("SELECT status FROM call_tasks WHERE id = $1", task.id)
    assert status == "cancelled"

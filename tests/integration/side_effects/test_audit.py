"""The audit trail is append-only, and record_event checks what it is given."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from overdue.store.audit import record_event
from tests.integration.side_effects.conftest import TwilioStack

pytestmark = pytest.mark.integration


async def test_events_are_appended_and_never_changed(twilio_stack: TwilioStack) -> None:
    pool = twilio_stack.pool
    event_id = await record_event(
        pool, account_id="acct-audit", actor="agent-9", kind="call.outcome", details={"n": 1}
    )
    row = await pool.fetchrow("SELECT * FROM audit_events WHERE id = $1", event_id)
    assert row is not None
    assert (row["account_id"], row["actor"], row["kind"]) == (
        "acct-audit",
        "agent-9",
        "call.outcome",
    )
    assert row["occurred_at"] is not None

    for statement in (
        "UPDATE audit_events SET actor = 'someone else' WHERE id = $1",
        "DELETE FROM audit_events WHERE id = $1",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await pool.execute(statement, event_id)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await pool.execute("TRUNCATE audit_events")
    assert (
        await pool.fetchval("SELECT actor FROM audit_events WHERE id = $1", event_id) == "agent-9"
    )


@pytest.mark.parametrize(
    ("actor", "kind", "details", "message"),
    [
        ("", "sms.sent", {}, "actor"),
        ("system", "SMS Sent", {}, "dotted lower-case"),
        ("system", "sms.sent", {"when": object()}, "not a JSON object"),
    ],
)
async def test_bad_events_are_refused_with_a_reason(
    twilio_stack: TwilioStack, actor: str, kind: str, details: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await record_event(
            twilio_stack.pool, account_id=None, actor=actor, kind=kind, details=details
        )


async def test_ledger_status_cannot_move_back(twilio_stack: TwilioStack) -> None:
    pool = twilio_stack.pool
    ledger_id = await pool.fetchval(
        """
        INSERT INTO contact_ledger (idempotency_key, account_id, channel, stage_id, status)
        VALUES ($1, 'acct-x', 'sms', 's', 'delivered') RETURNING id
        """,
        f"audit-test/{uuid.uuid4().hex}/s/1",
    )
    with pytest.raises(asyncpg.CheckViolationError, match="may not move back"):
        await pool.execute("UPDATE contact_ledger SET status = 'queued' WHERE id = $1", ledger_id)
    with pytest.raises(asyncpg.CheckViolationError):
        await pool.execute(
            "UPDATE contact_ledger SET status = 'teleported' WHERE id = $1", ledger_id
        )

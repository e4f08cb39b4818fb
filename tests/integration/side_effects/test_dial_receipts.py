"""An agent's dial writes its compliance receipt in the dial's own transaction, and
`overdue compliance audit` recounts dials per number from dial_attempts: a lawful dial passes,
a dial planted by hand over the daily cap or inside the quiet period is reported.

Fixed instants (a Wednesday 10:00 in Shanghai, months before the wall clock), so the result
never depends on the hour the suite runs."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from api.console.dials import dial_receipt, record_dial
from overdue import compliance_audit
from overdue.store import call_tasks, receipts
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.test_dial_attempt_store import (
    NOW,
    POLICY,
    claimed_task,
    new_phone,
)
from workflows.dial_caps import DialOutcome

AGENT = "agent-1"


async def violations(pool: asyncpg.Pool, account: str) -> list[tuple[str, str]]:
    """The audit's findings for one account (the stack's database holds other tests' too)."""
    known = {(POLICY.id, POLICY.version): POLICY}
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        return [
            (v.rule, v.details)
            async for v in compliance_audit.audit(conn, known)
            if v.account_id == account
        ]


async def held_task(pool: asyncpg.Pool, phone: str) -> call_tasks.CallTask:
    task_id = await claimed_task(pool, phone, AGENT, f"q-{uuid.uuid4().hex[:8]}")
    task = await call_tasks.get(pool, task_id)
    assert task is not None
    return task


async def plant_dial(pool: asyncpg.Pool, like: int, minutes_later: int, outcome: str) -> None:
    """A dial written by hand, as no code path would: a copy of attempt `like`, later."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            """
            INSERT INTO dial_attempts (task_id, account_id, number_ref, agent_id, dialled_at,
                                       time_zone, local_at, outcome, unanswered, conversation,
                                       checked)
            SELECT task_id, account_id, number_ref, agent_id, dialled_at + $2, time_zone,
                   local_at + $2, $3, $3 IN ('no_answer', 'busy', 'voicemail'),
                   $3 IN ('reached', 'refused'), checked
              FROM dial_attempts WHERE id = $1
            RETURNING *
            """,
            like,
            timedelta(minutes=minutes_later),
            outcome,
        )
        assert row is not None
        receipt = await conn.fetchrow(
            "SELECT * FROM compliance_receipts WHERE contact_key = $1", receipts.dial_key(like)
        )
        assert receipt is not None
        planted = receipts.Receipt(
            contact_key=receipts.dial_key(row["id"]),
            account_id=row["account_id"],
            channel="dial",
            stage_id=receipt["stage_id"],
            basis="agent",
            time_zone=row["time_zone"],
            jurisdiction=receipt["jurisdiction"],
            window_start=receipt["window_start"],
            window_end=receipt["window_end"],
            caps=receipts.CapsInForce(
                receipt["sms_per_day"],
                receipt["sms_per_week"],
                receipt["calls_per_day"],
                receipt["calls_per_7_days"],
            ),
            policy_id=POLICY.id,
            policy_version=POLICY.version,
        )
        await receipts.write_receipt(conn, planted, at=row["dialled_at"])


async def test_a_dial_writes_one_receipt_at_its_instant_and_the_audit_accepts_it(
    twilio_stack: TwilioStack,
) -> None:
    pool, phone = twilio_stack.pool, new_phone()
    task = await held_task(pool, phone)
    recorded, checked = await record_dial(pool, POLICY, task, AGENT, DialOutcome.NO_ANSWER, NOW)
    row = await pool.fetchrow(
        "SELECT * FROM compliance_receipts WHERE contact_key = $1", receipts.dial_key(recorded.id)
    )
    assert row is not None
    assert (row["channel"], row["basis"], row["at"]) == ("dial", "agent", NOW)
    assert (row["policy_id"], row["policy_version"]) == (POLICY.id, POLICY.version)
    assert (row["window_start"], row["window_end"]) == (checked.window_start, checked.window_end)
    assert phone not in str(dict(row)) and phone[1:] not in str(dict(row))
    assert dial_receipt(POLICY, task, recorded, checked).calendar_rule is None  # a Wednesday
    assert await violations(pool, task.account_id) == []


async def test_the_audit_reports_a_dial_planted_over_the_daily_cap(
    twilio_stack: TwilioStack,
) -> None:
    pool, phone = twilio_stack.pool, new_phone()
    task = await held_task(pool, phone)
    assert POLICY.caps.calls_per_day == 2
    first, _ = await record_dial(pool, POLICY, task, AGENT, DialOutcome.NO_ANSWER, NOW)
    await record_dial(pool, POLICY, task, AGENT, DialOutcome.BUSY, NOW + timedelta(minutes=5))
    assert await violations(pool, task.account_id) == []
    await plant_dial(pool, first.id, minutes_later=10, outcome="no_answer")
    found = await violations(pool, task.account_id)
    assert [rule for rule, _ in found] == ["over_cap"], found
    assert "3 unanswered dials on 2026-06-10, cap 2" in found[0][1]


async def test_the_audit_reports_a_dial_planted_in_the_quiet_period(
    twilio_stack: TwilioStack,
) -> None:
    pool, phone = twilio_stack.pool, new_phone()
    task = await held_task(pool, phone)
    reached, _ = await record_dial(pool, POLICY, task, AGENT, DialOutcome.REACHED, NOW)
    await plant_dial(pool, reached.id, minutes_later=60, outcome="no_answer")
    found = await violations(pool, task.account_id)
    assert [rule for rule, _ in found] == ["quiet_period"], found

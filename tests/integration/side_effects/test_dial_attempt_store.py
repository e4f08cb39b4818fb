"""Dial attempts in Postgres: recorded with the facts checked, refused over a cap (nothing
written), never both passed by two agents racing on one number; the claim skips a customer
over caps. Fixed instants: the check's clock is ours, not the wall clock."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from api.console.calling_hours import workable_now
from overdue.policy_files import load_policy
from overdue.store import call_tasks, dial_attempts
from overdue.store.accounts import CustomerReport, store_customer
from overdue.store.dial_attempts import DialRefused, NotHeld
from tests.integration.side_effects.conftest import TwilioStack
from workflows.dial_caps import DialAttempt, DialCheck, DialOutcome, DialRefusal, check_dial
from workflows.policy import Caps, ContactWindow, Policy

pytestmark = pytest.mark.integration

ZONE = "Asia/Shanghai"
WINDOW = ContactWindow.model_validate({"start": "08:00", "end": "21:00"})
CAPS = Caps(calls_per_day=2, calls_per_7_days=3, call_quiet_days_after_conversation=7)
# 10:00 in Shanghai; months before the wall clock, so other tests' attempts never count.
NOW = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
POLICY: Policy = load_policy(
    Path(__file__).resolve().parents[2] / "policies" / "fast.yaml"
).model_copy(update={"caps": CAPS})


def new_phone() -> str:
    return "+86139" + "".join(random.choices("0123456789", k=8))


def checker(history: Sequence[DialAttempt], now: datetime) -> DialCheck:
    return check_dial(window=WINDOW, caps=CAPS, time_zone=ZONE, history=history, now=now)


async def claimed_task(pool: asyncpg.Pool, phone: str, agent: str, queue: str) -> int:
    """A due task for a new account whose customer has `phone`, claimed by `agent`."""
    account = f"acct-{uuid.uuid4().hex[:10]}"
    async with pool.acquire() as conn:
        await store_customer(conn, account, CustomerReport("Test Customer", phone, ZONE, "en"))
        task, _ = await call_tasks.create_task(
            conn,
            idempotency_key=f"{account}/e/call/1",
            account_id=account,
            stage_id="d3_call",
            queue=queue,
            priority=0,
            due_at=datetime.now(UTC) - timedelta(minutes=1),
        )
    held = await call_tasks.claim_next(pool, queue, agent)
    assert held is not None and held.id == task.id
    return task.id


async def dial(
    pool: asyncpg.Pool,
    task_id: int,
    agent: str,
    phone: str,
    outcome: DialOutcome,
    now: datetime = NOW,
) -> tuple[dial_attempts.RecordedDial, DialCheck]:
    async with pool.acquire() as conn, conn.transaction():
        return await dial_attempts.record(
            conn,
            task_id=task_id,
            agent_id=agent,
            outcome=outcome,
            phone_e164=phone,
            now=now,
            check=checker,
        )


async def test_an_attempt_is_stored_with_its_local_time_checked_facts_and_audit(
    twilio_stack: TwilioStack,
) -> None:
    pool, phone = twilio_stack.pool, new_phone()
    task_id = await claimed_task(pool, phone, "agent-1", f"q-{uuid.uuid4().hex[:8]}")
    recorded, checked = await dial(pool, task_id, "agent-1", phone, DialOutcome.NO_ANSWER)
    assert recorded.local_at == datetime(2026, 6, 10, 10, 0)
    assert (recorded.unanswered, recorded.conversation) == (True, False)
    row = await pool.fetchrow("SELECT * FROM dial_attempts WHERE id = $1", recorded.id)
    assert row is not None
    assert phone not in str(dict(row)) and phone[1:] not in str(dict(row))  # never in clear
    assert bytes(row["number_ref"]) == dial_attempts.number_ref(phone)
    facts = checked.as_json()
    assert facts["unanswered_today"] == 0 and facts["local_at"].startswith("2026-06-10T10:00")
    stored = await pool.fetchval("SELECT checked FROM dial_attempts WHERE id = $1", recorded.id)
    assert '"unanswered_today": 0' in stored
    audit = await pool.fetchrow(
        "SELECT actor, details FROM audit_events WHERE kind = 'call.dial_attempt' "
        "AND account_id = $1",
        recorded.account_id,
    )
    assert audit is not None and audit["actor"] == "agent-1"
    assert f'"dial_attempt_id": {recorded.id}' in audit["details"]
    ref = dial_attempts.number_ref(phone)
    later = NOW + timedelta(hours=1)
    assert (await dial_attempts.histories(pool, [ref], later))[ref] == [
        DialAttempt(NOW, True, False)
    ]


async def test_over_the_daily_cap_refuses_and_writes_nothing(twilio_stack: TwilioStack) -> None:
    pool, phone = twilio_stack.pool, new_phone()
    task_id = await claimed_task(pool, phone, "agent-2", f"q-{uuid.uuid4().hex[:8]}")
    for minutes in (0, 10):
        await dial(
            pool, task_id, "agent-2", phone, DialOutcome.BUSY, NOW + timedelta(minutes=minutes)
        )
    with pytest.raises(DialRefused) as refused:
        await dial(pool, task_id, "agent-2", phone, DialOutcome.BUSY, NOW + timedelta(minutes=20))
    assert refused.value.check.refusal is DialRefusal.DAILY_CAP
    assert refused.value.check.unanswered_today == 2
    count = await pool.fetchval("SELECT count(*) FROM dial_attempts WHERE task_id = $1", task_id)
    assert count == 2
    with pytest.raises(NotHeld):
        await dial(pool, task_id, "agent-other", phone, DialOutcome.BUSY)


async def test_a_conversation_is_remembered_beyond_the_week_for_the_quiet_period(
    twilio_stack: TwilioStack,
) -> None:
    pool, phone = twilio_stack.pool, new_phone()
    task_id = await claimed_task(pool, phone, "agent-3", f"q-{uuid.uuid4().hex[:8]}")
    await dial(pool, task_id, "agent-3", phone, DialOutcome.REACHED)
    ref = dial_attempts.number_ref(phone)
    much_later = NOW + timedelta(days=30)
    assert (await dial_attempts.histories(pool, [ref], much_later))[ref] == [
        DialAttempt(NOW, False, True)
    ]
    with pytest.raises(DialRefused) as refused:
        await dial(pool, task_id, "agent-3", phone, DialOutcome.BUSY, NOW + timedelta(days=1))
    assert refused.value.check.refusal is DialRefusal.QUIET_PERIOD
    assert refused.value.check.workable_from == NOW + timedelta(days=7)


async def test_two_agents_racing_on_one_number_cannot_both_pass_the_cap(
    twilio_stack: TwilioStack,
) -> None:
    pool, phone = twilio_stack.pool, new_phone()
    queue = f"q-{uuid.uuid4().hex[:8]}"
    # Two accounts, one number (a customer with two loans): one number's cap.
    first = await claimed_task(pool, phone, "agent-a", queue)
    second = await claimed_task(pool, phone, "agent-b", queue)
    await dial(pool, first, "agent-a", phone, DialOutcome.NO_ANSWER)
    results = await asyncio.gather(
        dial(pool, first, "agent-a", phone, DialOutcome.NO_ANSWER, NOW + timedelta(minutes=1)),
        dial(pool, second, "agent-b", phone, DialOutcome.NO_ANSWER, NOW + timedelta(minutes=1)),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["DialRefused", "tuple"]
    count = await pool.fetchval(
        "SELECT count(*) FROM dial_attempts WHERE number_ref = $1", dial_attempts.number_ref(phone)
    )
    assert count == 2


async def test_the_claim_skips_a_customer_over_the_caps(twilio_stack: TwilioStack) -> None:
    pool, queue = twilio_stack.pool, f"q-{uuid.uuid4().hex[:8]}"
    capped_phone, free_phone = new_phone(), new_phone()
    capped = await claimed_task(pool, capped_phone, "agent-c", queue)
    for minutes in (0, 1):
        at = NOW + timedelta(minutes=minutes)
        await dial(pool, capped, "agent-c", capped_phone, DialOutcome.NO_ANSWER, at)
    await call_tasks.release(pool, capped, "agent-c")
    account = f"acct-{uuid.uuid4().hex[:10]}"
    async with pool.acquire() as conn:
        await store_customer(conn, account, CustomerReport("Other", free_phone, ZONE, "en"))
        free, _ = await call_tasks.create_task(
            conn,
            idempotency_key=f"{account}/e/call/1",
            account_id=account,
            stage_id="d3_call",
            queue=queue,
            priority=-1,  # after the capped one in claim order
            due_at=datetime.now(UTC) - timedelta(minutes=1),
        )
    at = NOW + timedelta(minutes=5)  # 10:05 in Shanghai, same local day
    claimed = await call_tasks.claim_next(pool, queue, "agent-d", workable_now(POLICY, at), now=at)
    assert claimed is not None and claimed.id == free.id
    status = await pool.fetchval("SELECT status FROM call_tasks WHERE id = $1", capped)
    assert status == "open"
    # The next local day the capped customer is workable again.
    tomorrow = NOW + timedelta(days=1)
    again = await call_tasks.claim_next(
        pool, queue, "agent-e", workable_now(POLICY, tomorrow), now=tomorrow
    )
    assert again is not None and again.id == capped


async def test_the_stored_facts_read_back_for_a_receipt(twilio_stack: TwilioStack) -> None:
    pool, phone = twilio_stack.pool, new_phone()
    task_id = await claimed_task(pool, phone, "agent-f", f"q-{uuid.uuid4().hex[:8]}")
    await dial(pool, task_id, "agent-f", phone, DialOutcome.VOICEMAIL)
    recorded, checked = await dial(
        pool, task_id, "agent-f", phone, DialOutcome.REACHED, NOW + timedelta(minutes=3)
    )
    facts = await dial_attempts.checked_facts(pool, recorded.id)
    assert facts == checked and facts is not None
    assert (facts.unanswered_today, facts.attempts_7_days, facts.allowed) == (1, 1, True)
    assert str(facts.local_at) == "2026-06-10 10:03:00+08:00"
    assert await dial_attempts.checked_facts(pool, -1) is None


async def test_a_server_whose_clock_is_behind_still_counts_every_attempt(
    twilio_stack: TwilioStack,
) -> None:
    """Another server recorded an attempt 'later' than our clock: ours is checked and recorded
    at that instant, so neither attempt escapes the other's count."""
    pool, phone = twilio_stack.pool, new_phone()
    task_id = await claimed_task(pool, phone, "agent-g", f"q-{uuid.uuid4().hex[:8]}")
    ahead = NOW + timedelta(seconds=2)
    await dial(pool, task_id, "agent-g", phone, DialOutcome.BUSY, ahead)
    recorded, checked = await dial(pool, task_id, "agent-g", phone, DialOutcome.BUSY, NOW)
    assert recorded.dialled_at == ahead and checked.unanswered_today == 1
    with pytest.raises(DialRefused) as refused:
        await dial(pool, task_id, "agent-g", phone, DialOutcome.BUSY, NOW)
    assert refused.value.check.refusal is DialRefusal.DAILY_CAP

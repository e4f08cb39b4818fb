"""Claiming call tasks: atomic, ordered, only due tasks, only by the claiming agent."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.call_tasks import CallTaskActivities
from overdue.store import call_tasks as store
from overdue.store.accounts import lock_account
from overdue.store.call_tasks import CallTask, CallTaskConflict
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.support import decided_now, report_payment
from workflows.contact_types import CONTACT_WITHHELD, CreateCallTaskInput, DecisionBasis
from workflows.policy import CallQueue

pytestmark = pytest.mark.integration


async def add_task(
    pool: asyncpg.Pool, queue: str, *, priority: int = 0, due_in: timedelta = timedelta(0)
) -> CallTask:
    account = f"acct-{uuid.uuid4().hex[:10]}"
    async with pool.acquire() as conn:
        task, created = await store.create_task(
            conn,
            idempotency_key=f"{account}/e/call/1",
            account_id=account,
            stage_id="d3_call",
            queue=queue,
            priority=priority,
            due_at=datetime.now(UTC) + due_in,
        )
    assert created
    return task


def new_queue() -> str:
    return f"q-{uuid.uuid4().hex[:8]}"  # each test its own queue: tests never see each other


async def test_next_task_is_the_highest_priority_then_the_earliest_due(
    twilio_stack: TwilioStack,
) -> None:
    pool, queue = twilio_stack.pool, new_queue()
    low = await add_task(pool, queue, priority=10, due_in=-timedelta(hours=2))
    high_later = await add_task(pool, queue, priority=50, due_in=-timedelta(minutes=1))
    high_earlier = await add_task(pool, queue, priority=50, due_in=-timedelta(hours=1))
    await add_task(pool, queue, priority=100, due_in=timedelta(hours=1))  # not due yet
    await add_task(pool, new_queue(), priority=100)  # another queue

    order = []
    for agent in ("a1", "a2", "a3", "a4"):
        task = await store.claim_next(pool, queue, agent)
        order.append(task.id if task else None)
    assert order == [high_earlier.id, high_later.id, low.id, None]


async def test_concurrent_agents_never_get_the_same_task(twilio_stack: TwilioStack) -> None:
    pool, queue = twilio_stack.pool, new_queue()
    tasks = [await add_task(pool, queue) for _ in range(5)]

    claims = await asyncio.gather(*(store.claim_next(pool, queue, f"agent-{i}") for i in range(12)))

    claimed = [c for c in claims if c is not None]
    assert sorted(c.id for c in claimed) == sorted(t.id for t in tasks)
    assert len({c.claimed_by for c in claimed}) == 5
    assert all(c.status == "claimed" and c.claimed_at is not None for c in claimed)


async def test_an_agent_gets_their_held_task_back_then_completes_it(
    twilio_stack: TwilioStack,
) -> None:
    pool, queue = twilio_stack.pool, new_queue()
    await add_task(pool, queue)
    await add_task(pool, queue)
    held = await store.claim_next(pool, queue, "agent-7")
    assert held is not None
    assert (await store.claim_next(pool, queue, "agent-7")) == held

    with pytest.raises(CallTaskConflict, match="claimed by another agent"):
        await store.complete(pool, held.id, "agent-8", "reached")
    done = await store.complete(pool, held.id, "agent-7", "reached")
    assert (done.status, done.outcome, done.claimed_by) == ("done", "reached", "agent-7")
    assert done.outcome_at is not None
    with pytest.raises(CallTaskConflict, match="is done, not claimed"):
        await store.complete(pool, held.id, "agent-7", "reached")
    kinds = await pool.fetch(
        "SELECT kind, actor FROM audit_events WHERE account_id = $1 ORDER BY id", held.account_id
    )
    assert [(k["kind"], k["actor"]) for k in kinds] == [
        ("call_task.claimed", "agent-7"),
        ("call_task.completed", "agent-7"),
    ]


async def test_bad_arguments_and_unknown_tasks_are_named(twilio_stack: TwilioStack) -> None:
    with pytest.raises(ValueError, match="agent_id"):
        await store.claim_next(twilio_stack.pool, "general", " ")
    with pytest.raises(ValueError, match="outcome"):
        await store.complete(twilio_stack.pool, 1, "agent-1", "")
    with pytest.raises(CallTaskConflict, match="does not exist"):
        await store.complete(twilio_stack.pool, 2**62, "agent-1", "reached")


async def test_resolving_the_account_cancels_claimed_and_open_tasks(
    twilio_stack: TwilioStack,
) -> None:
    from workflows.contact_types import CancelCallTasksInput

    pool, queue = twilio_stack.pool, new_queue()
    task = await add_task(pool, queue)
    claimed = await store.claim_next(pool, queue, "agent-1")
    assert claimed is not None
    result = await ActivityEnvironment().run(
        CallTaskActivities(pool).cancel_open_call_tasks,
        CancelCallTasksInput(account_id=task.account_id, reason="account resolved"),
    )
    assert result.cancelled == 1
    cancelled = await store.get(pool, task.id)
    assert cancelled is not None
    assert (cancelled.status, cancelled.outcome) == ("cancelled", "account resolved")
    with pytest.raises(CallTaskConflict, match="is cancelled"):
        await store.complete(pool, task.id, "agent-1", "reached")


def call_input(account_id: str, queue: str, basis: DecisionBasis | None) -> CreateCallTaskInput:
    return CreateCallTaskInput(
        idempotency_key=f"{account_id}/e/d2_call/1",
        account_id=account_id,
        stage_id="d2_call",
        queue=CallQueue.GENERAL,
        priority=50,
        due_at=datetime.now(UTC),
        basis=basis,
    )


async def test_a_payment_after_the_decision_withholds_the_call_task(
    twilio_stack: TwilioStack,
) -> None:
    pool = twilio_stack.pool
    account = f"acct-{uuid.uuid4().hex[:10]}"
    basis = await decided_now(pool)
    await report_payment(pool, account, "PAY-1")

    with pytest.raises(ApplicationError) as withheld:
        await ActivityEnvironment().run(
            CallTaskActivities(pool).create_call_task, call_input(account, new_queue(), basis)
        )

    assert (withheld.value.type, withheld.value.non_retryable) == (CONTACT_WITHHELD, True)
    assert (
        await pool.fetchval("SELECT count(*) FROM call_tasks WHERE account_id = $1", account) == 0
    )
    kinds = await pool.fetch(
        "SELECT kind FROM audit_events WHERE account_id = $1 ORDER BY id", account
    )
    assert [k["kind"] for k in kinds] == ["payment.reported", "call_task.withheld"]


async def test_a_call_task_waits_for_a_payment_being_reported_and_sees_it(
    twilio_stack: TwilioStack,
) -> None:
    """The API reports a payment under the account's lock; a task being created meanwhile
    waits for that transaction, so it cannot miss the payment and leave an open task."""
    pool = twilio_stack.pool
    account = f"acct-{uuid.uuid4().hex[:10]}"
    basis = await decided_now(pool)
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        await lock_account(conn, account)
        await report_payment(conn, account, "PAY-1")
        creating = asyncio.ensure_future(
            ActivityEnvironment().run(
                CallTaskActivities(pool).create_call_task, call_input(account, new_queue(), basis)
            )
        )
        await asyncio.sleep(0.3)
        assert not creating.done()  # waiting for the payment's transaction
        await transaction.commit()
    with pytest.raises(ApplicationError) as withheld:
        await creating
    assert withheld.value.type == CONTACT_WITHHELD


async def test_a_known_payment_does_not_withhold_the_call_task(
    twilio_stack: TwilioStack,
) -> None:
    pool = twilio_stack.pool
    account = f"acct-{uuid.uuid4().hex[:10]}"
    await report_payment(pool, account, "PAY-1")
    basis = await decided_now(pool, known=("PAY-1",))
    result = await ActivityEnvironment().run(
        CallTaskActivities(pool).create_call_task, call_input(account, new_queue(), basis)
    )
    assert result.created

"""The one pre-send check (overdue/store/contact_gate.py), as each contact activity makes it.

Every channel checks the same way, under the account's lock, and withholds the same way. The
lock is held for the check only, never across the provider call: a payment reported before
the check withholds the contact; one reported after it (even while the provider is being
called) finds the ledger row cleared.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.call_tasks import CallTaskActivities
from activities.notify import NotifyActivities
from activities.sms import SmsActivities
from activities.sms_senders import RecordingSmsSender
from activities.sms_types import OutboundSms, SentSms
from overdue.settings import NotifyConfig
from overdue.store.accounts import lock_account
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.support import (
    add_customer,
    decided_now,
    report_payment,
    sms_input,
)
from workflows.contact_types import (
    CONTACT_WITHHELD,
    CreateCallTaskInput,
    DecisionBasis,
    NotifyInput,
)
from workflows.policy import CallQueue, NotifyKind

pytestmark = pytest.mark.integration

CHANNELS = ("sms", "notify", "call_task")
# While the provider is being called: a chance to act (report a payment) before it answers.
DuringSend = Callable[[], Awaitable[None]]


@dataclass
class Contact:
    """One contact of a channel, ready to run: its account, key, stage and the activity call."""

    account_id: str
    idempotency_key: str
    stage_id: str
    run: Callable[[], Awaitable[object]]


async def _nothing() -> None:
    return None


class _SlowSender(RecordingSmsSender):
    """Records the message, after doing `during` while the 'provider' is being called."""

    def __init__(self, during: DuringSend) -> None:
        super().__init__()
        self._during = during

    async def send(self, message: OutboundSms) -> SentSms:
        await self._during()
        return await super().send(message)


async def contact(
    stack: TwilioStack, channel: str, basis: DecisionBasis, during: DuringSend = _nothing
) -> Contact:
    pool = stack.pool
    env = ActivityEnvironment()
    if channel == "sms":
        customer = await add_customer(pool)
        sms = sms_input(customer).model_copy(update={"basis": basis})
        activities = SmsActivities(pool, _SlowSender(during))
        return Contact(
            customer.account_id,
            sms.idempotency_key,
            sms.stage_id,
            lambda: env.run(activities.send_sms, sms),
        )
    account = f"acct-{uuid.uuid4().hex[:10]}"
    if channel == "notify":
        notice = NotifyInput(
            idempotency_key=f"{account}/e/d5_app/1",
            account_id=account,
            stage_id="d5_app",
            kind=NotifyKind.APP_NOTICE,
            amount_minor=50_000,
            currency="CNY",
            days_past_due=5,
            basis=basis,
        )

        async def backend(request: httpx.Request) -> httpx.Response:
            await during()
            return httpx.Response(200)

        notify = NotifyActivities(
            pool,
            NotifyConfig(url="http://backend.invalid/notices", secret="s" * 32, timeout_seconds=5),
            transport=httpx.MockTransport(backend),
        )
        return Contact(
            account,
            notice.idempotency_key,
            notice.stage_id,
            lambda: env.run(notify.send_notification, notice),
        )
    task = CreateCallTaskInput(
        idempotency_key=f"{account}/e/d2_call/1",
        account_id=account,
        stage_id="d2_call",
        queue=CallQueue.GENERAL,
        priority=50,
        due_at=datetime.now(UTC),
        basis=basis,
    )
    calls = CallTaskActivities(pool)
    return Contact(
        account,
        task.idempotency_key,
        task.stage_id,
        lambda: env.run(calls.create_call_task, task),
    )


async def ledger_row(pool: asyncpg.Pool, key: str) -> asyncpg.Record:
    row = await pool.fetchrow(
        "SELECT channel, status, attempted_at, cleared_at FROM contact_ledger "
        "WHERE idempotency_key = $1",
        key,
    )
    assert row is not None
    return row


async def audit_rows(pool: asyncpg.Pool, account_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await pool.fetch(
        "SELECT kind, details FROM audit_events WHERE account_id = $1 ORDER BY id", account_id
    )
    return [(r["kind"], json.loads(r["details"])) for r in rows]


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_payment_being_reported_is_waited_for_and_withholds_every_channel_alike(
    twilio_stack: TwilioStack, channel: str
) -> None:
    pool = twilio_stack.pool
    made = await contact(twilio_stack, channel, await decided_now(pool))
    async with pool.acquire() as conn:
        # The API's payment path: the account's lock, the payment, then (later) the commit.
        transaction = conn.transaction()
        await transaction.start()
        await lock_account(conn, made.account_id)
        await report_payment(conn, made.account_id, "PAY-1")
        running = asyncio.ensure_future(made.run())
        await asyncio.sleep(0.3)
        assert not running.done()  # the check waits for the payment's transaction
        await transaction.commit()
    with pytest.raises(ApplicationError) as withheld:
        await running
    assert (withheld.value.type, withheld.value.non_retryable) == (CONTACT_WITHHELD, True)

    row = await ledger_row(pool, made.idempotency_key)
    assert (row["channel"], row["status"], row["attempted_at"], row["cleared_at"]) == (
        channel,
        "withheld",
        None,
        None,
    )
    assert await audit_rows(pool, made.account_id) == [
        ("payment.reported", {"payment_id": "PAY-1", "amount_minor": 100, "currency": "CNY"}),
        (
            f"{channel}.withheld",
            {
                "idempotency_key": made.idempotency_key,
                "stage_id": made.stage_id,
                "unseen_payments": 1,
            },
        ),
    ]
    if channel == "call_task":
        assert not await pool.fetchval(
            "SELECT count(*) FROM call_tasks WHERE account_id = $1", made.account_id
        )


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_payment_reported_after_the_check_finds_the_row_cleared(
    twilio_stack: TwilioStack, channel: str
) -> None:
    """The check's lock is not held while the provider is called: a payment reported during
    the call goes through at once (within a second), and the contact is made."""
    pool = twilio_stack.pool
    account: list[str] = []

    async def pay_while_sending() -> None:
        await asyncio.wait_for(_report_as_the_api_does(pool, account[0], "PAY-2"), timeout=1.0)

    made = await contact(twilio_stack, channel, await decided_now(pool), pay_while_sending)
    account.append(made.account_id)
    await made.run()
    if channel == "call_task":  # the task is the contact: no provider call to pay during
        await _report_as_the_api_does(pool, made.account_id, "PAY-2")

    row = await ledger_row(pool, made.idempotency_key)
    paid_at = await pool.fetchval(
        "SELECT reported_at FROM reported_events WHERE account_id = $1 AND event_id = 'PAY-2'",
        made.account_id,
    )
    assert row["cleared_at"] is not None and row["cleared_at"] <= paid_at
    assert (
        row["status"]
        == {"sms": "sent", "notify": "delivered", "call_task": "task_created"}[channel]
    )
    kinds = [kind for kind, _ in await audit_rows(pool, made.account_id)]
    assert f"{channel}.withheld" not in kinds
    assert "payment.reported" in kinds


async def _report_as_the_api_does(pool: asyncpg.Pool, account_id: str, payment_id: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await lock_account(conn, account_id)
        await report_payment(conn, account_id, payment_id)


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_withheld_contact_answers_the_same_on_every_retry(
    twilio_stack: TwilioStack, channel: str
) -> None:
    pool = twilio_stack.pool
    basis = await decided_now(pool)
    made = await contact(twilio_stack, channel, basis)
    await report_payment(pool, made.account_id, "PAY-1")
    for _ in range(2):
        with pytest.raises(ApplicationError) as withheld:
            await made.run()
        assert withheld.value.type == CONTACT_WITHHELD
    kinds = [kind for kind, _ in await audit_rows(pool, made.account_id)]
    assert kinds == ["payment.reported", f"{channel}.withheld"]  # withheld once, audited once

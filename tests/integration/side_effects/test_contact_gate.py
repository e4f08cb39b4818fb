"""The one pre-send check (overdue/store/contact_gate.py), as each contact activity makes it.

Every channel checks the same way, under the account's lock, and withholds the same way. The
lock is held for the check only, never across the provider call: a payment reported before
the check withholds the contact; one reported after it (even while the provider is being
called) finds the ledger row cleared.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from temporalio.exceptions import ApplicationError

from overdue.store.accounts import lock_account
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.gate_support import CHANNELS, audit_rows, contact, ledger_row
from tests.integration.side_effects.support import decided_now, report_payment
from workflows.contact_types import CONTACT_WITHHELD

pytestmark = pytest.mark.integration


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

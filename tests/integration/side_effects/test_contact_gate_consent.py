"""The pre-send check (overdue/store/contact_gate.py) against a consent withdrawn after the
decision: a contact that relied on a channel's recorded consent (`consent_channel`) is withheld
when the latest row of `consent_events` for that channel is a withdrawal, on every channel."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.exceptions import ApplicationError

from overdue.store import consents
from overdue.store.accounts import lock_account
from overdue.store.consents import ConsentEvent
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.gate_support import CHANNELS, audit_rows, contact, ledger_row
from tests.integration.side_effects.support import decided_now
from workflows.contact_types import CONTACT_WITHHELD, DecisionBasis

pytestmark = pytest.mark.integration

# The consent channel of each ledger channel's contact in gate_support (an app notice).
CONSENT_CHANNEL = {"sms": "sms", "notify": "app_notice", "call_task": "call"}
MADE = {"sms": "sent", "notify": "delivered", "call_task": "task_created"}
SIGNED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def relying_on(pool: asyncpg.Pool, channel: str | None) -> DecisionBasis:
    basis = await decided_now(pool)
    return basis.model_copy(update={"consent_channel": channel})


async def record(
    pool: asyncpg.Pool, account_id: str, channel: str, granted: bool, at: datetime
) -> None:
    """A change as the API records it: under the account's lock."""
    async with pool.acquire() as conn, conn.transaction():
        await lock_account(conn, account_id)
        await consents.record_change(
            conn,
            ConsentEvent(
                account_id=account_id,
                change_id=f"c-{uuid.uuid4().hex[:8]}",
                channel=channel,
                granted=granted,
                source="app_settings",
                at=at,
                actor="backend",
            ),
        )


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_consent_withdrawn_after_the_decision_withholds_the_contact(
    twilio_stack: TwilioStack, channel: str
) -> None:
    pool = twilio_stack.pool
    consent = CONSENT_CHANNEL[channel]
    made = await contact(twilio_stack, channel, await relying_on(pool, consent))
    await record(pool, made.account_id, consent, True, SIGNED)
    await record(pool, made.account_id, consent, False, datetime.now(UTC))

    with pytest.raises(ApplicationError) as withheld:
        await made.run()
    assert (withheld.value.type, withheld.value.non_retryable) == (CONTACT_WITHHELD, True)
    assert withheld.value.details[0]["reason"] == "consent_withdrawn"
    assert withheld.value.details[0]["channel"] == consent
    row = await ledger_row(pool, made.idempotency_key)
    assert (row["status"], row["cleared_at"]) == ("withheld", None)
    assert (await audit_rows(pool, made.account_id))[-1] == (
        f"{channel}.withheld",
        {
            "idempotency_key": made.idempotency_key,
            "stage_id": made.stage_id,
            "reason": "consent_withdrawn",
            "channel": consent,
        },
    )


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_grant_after_the_withdrawal_or_no_record_lets_it_go(
    twilio_stack: TwilioStack, channel: str
) -> None:
    """The latest change counts, by when the customer made it (`at`), not by when it was
    recorded: a grant given after a withdrawal that was recorded later still holds."""
    pool = twilio_stack.pool
    consent = CONSENT_CHANNEL[channel]
    made = await contact(twilio_stack, channel, await relying_on(pool, consent))
    await record(pool, made.account_id, consent, True, SIGNED + timedelta(days=2))
    await record(pool, made.account_id, consent, False, SIGNED + timedelta(days=1))
    await made.run()
    assert (await ledger_row(pool, made.idempotency_key))["status"] == MADE[channel]

    never = await contact(twilio_stack, channel, await relying_on(pool, consent))
    await never.run()  # nothing recorded: the decision's own grant (its input) stands
    assert (await ledger_row(pool, never.idempotency_key))["status"] == MADE[channel]


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_contact_that_relied_on_no_consent_is_not_withheld_for_one(
    twilio_stack: TwilioStack, channel: str
) -> None:
    """The policy required none for the channel (or the basis is from before consent)."""
    pool = twilio_stack.pool
    made = await contact(twilio_stack, channel, await relying_on(pool, None))
    await record(pool, made.account_id, CONSENT_CHANNEL[channel], False, datetime.now(UTC))
    await made.run()
    assert (await ledger_row(pool, made.idempotency_key))["status"] == MADE[channel]


async def test_the_history_is_append_only_and_in_order(twilio_stack: TwilioStack) -> None:
    pool = twilio_stack.pool
    account = f"acct-{uuid.uuid4().hex[:10]}"
    await record(pool, account, "sms", False, SIGNED + timedelta(days=3))
    await record(pool, account, "sms", True, SIGNED)
    await record(pool, account, "call", True, SIGNED + timedelta(days=1))
    listed = await consents.history(pool, account)
    assert [(e.channel, e.granted, e.at) for e in listed] == [
        ("sms", True, SIGNED),
        ("call", True, SIGNED + timedelta(days=1)),
        ("sms", False, SIGNED + timedelta(days=3)),
    ]
    assert await consents.withdrawn(pool, account, "sms")
    assert not await consents.withdrawn(pool, account, "call")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await pool.execute("DELETE FROM consent_events WHERE account_id = $1", account)

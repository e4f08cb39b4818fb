"""The pre-send check (overdue/store/contact_gate.py) against a cease-contact request or a
dispute reported while a contact was in flight: the race the compliance audit used to find
afterwards (`after_cease`, `during_dispute`).

A basis that says what the decision knew (`ceased_known`, `disputes_known`) is checked for
them as for a payment, and withheld the same way; a basis from before those fields (None) is
checked for payments only, as it always was.
"""

from __future__ import annotations

import asyncpg
import pytest
from temporalio.exceptions import ApplicationError

from overdue.store import reported_events
from overdue.store.accounts import lock_account
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.gate_support import CHANNELS, audit_rows, contact, ledger_row
from tests.integration.side_effects.support import decided_now
from workflows.contact_types import CONTACT_WITHHELD, DecisionBasis
from workflows.policy import NotifyKind

pytestmark = pytest.mark.integration

MADE = {"sms": "sent", "notify": "delivered", "call_task": "task_created"}


async def knowing(
    pool: asyncpg.Pool,
    *,
    ceased: bool = False,
    disputes: tuple[str, ...] = (),
    calls_after_cease: bool = False,
) -> DecisionBasis:
    """A decision made now that says what it knew of cease and disputes, as workflows do."""
    basis = await decided_now(pool)
    return basis.model_copy(
        update={
            "ceased_known": ceased,
            "disputes_known": list(disputes),
            "calls_after_cease": calls_after_cease,
        }
    )


async def report(pool: asyncpg.Pool, account_id: str, kind: str, event_id: str) -> None:
    """An event as the API records it: under the account's lock, once per id."""
    id_field = "request_id" if kind == reported_events.CONTACT_CEASED else "dispute_id"
    async with pool.acquire() as conn, conn.transaction():
        await lock_account(conn, account_id)
        await reported_events.record_once(
            conn,
            account_id=account_id,
            kind=kind,
            event_id=event_id,
            actor="backend",
            details={id_field: event_id},
        )


async def assert_withheld(
    stack: TwilioStack, channel: str, basis: DecisionBasis, kind: str, details: dict[str, object]
) -> None:
    pool = stack.pool
    made = await contact(stack, channel, basis)
    await report(pool, made.account_id, kind, "EV-1")
    with pytest.raises(ApplicationError) as withheld:
        await made.run()
    assert (withheld.value.type, withheld.value.non_retryable) == (CONTACT_WITHHELD, True)
    assert withheld.value.details[0]["reason"] == details["reason"]

    row = await ledger_row(pool, made.idempotency_key)
    assert (row["channel"], row["status"], row["cleared_at"]) == (channel, "withheld", None)
    audited = await audit_rows(pool, made.account_id)
    assert audited[-1] == (
        f"{channel}.withheld",
        {"idempotency_key": made.idempotency_key, "stage_id": made.stage_id, **details},
    )
    if channel == "call_task":
        assert not await pool.fetchval(
            "SELECT count(*) FROM call_tasks WHERE account_id = $1", made.account_id
        )
    # A retry answers the same, and audits nothing more.
    with pytest.raises(ApplicationError):
        await made.run()
    assert await audit_rows(pool, made.account_id) == audited


async def assert_made(
    stack: TwilioStack,
    channel: str,
    basis: DecisionBasis,
    events: list[tuple[str, str]],
    *,
    kind: NotifyKind = NotifyKind.APP_NOTICE,
) -> None:
    pool = stack.pool
    made = await contact(stack, channel, basis, kind=kind)
    for event_kind, event_id in events:
        await report(pool, made.account_id, event_kind, event_id)
    await made.run()
    row = await ledger_row(pool, made.idempotency_key)
    assert (row["status"], row["cleared_at"] is not None) == (MADE[channel], True)


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_cease_reported_after_the_decision_withholds_every_channel(
    twilio_stack: TwilioStack, channel: str
) -> None:
    basis = await knowing(twilio_stack.pool)
    await assert_withheld(
        twilio_stack, channel, basis, reported_events.CONTACT_CEASED, {"reason": "contact_ceased"}
    )


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_dispute_opened_after_the_decision_withholds_every_channel(
    twilio_stack: TwilioStack, channel: str
) -> None:
    basis = await knowing(twilio_stack.pool, disputes=("OLD-1",))
    await assert_withheld(
        twilio_stack,
        channel,
        basis,
        reported_events.DISPUTE_OPENED,
        {"reason": "dispute_opened", "unseen_disputes": 1},
    )


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_basis_from_before_the_fields_is_checked_for_payments_only(
    twilio_stack: TwilioStack, channel: str
) -> None:
    basis = await decided_now(twilio_stack.pool)
    assert (basis.ceased_known, basis.disputes_known, basis.calls_after_cease) == (None,) * 3
    await assert_made(
        twilio_stack,
        channel,
        basis,
        [(reported_events.CONTACT_CEASED, "REQ-1"), (reported_events.DISPUTE_OPENED, "D-1")],
    )


@pytest.mark.parametrize("channel", CHANNELS)
async def test_what_the_decision_knew_does_not_withhold(
    twilio_stack: TwilioStack, channel: str
) -> None:
    """A cease or a dispute the decision had applied is not counted again (the workflow would
    not have decided the contact; the gate must not count it twice)."""
    basis = await knowing(twilio_stack.pool, ceased=True, disputes=("D-1",))
    await assert_made(
        twilio_stack,
        channel,
        basis,
        [(reported_events.CONTACT_CEASED, "REQ-1"), (reported_events.DISPUTE_OPENED, "D-1")],
    )


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_dispute_opened_and_closed_since_does_not_withhold(
    twilio_stack: TwilioStack, channel: str
) -> None:
    basis = await knowing(twilio_stack.pool)
    await assert_made(
        twilio_stack,
        channel,
        basis,
        [(reported_events.DISPUTE_OPENED, "D-2"), (reported_events.DISPUTE_CLOSED, "D-2")],
    )


async def test_a_cease_does_not_withhold_a_call_the_policy_allows_after_cease(
    twilio_stack: TwilioStack,
) -> None:
    basis = await knowing(twilio_stack.pool, calls_after_cease=True)
    await assert_made(twilio_stack, "call_task", basis, [(reported_events.CONTACT_CEASED, "R")])


@pytest.mark.parametrize(
    "kind", [NotifyKind.EMAIL, NotifyKind.LETTER, NotifyKind.CREDIT_RESTRICTION]
)
async def test_a_cease_withholds_the_notices_it_stops_only(
    twilio_stack: TwilioStack, kind: NotifyKind
) -> None:
    """app_notice, email and letter stop on a cease (workflows.decisions); a credit
    restriction or a legal handover is not a contact the request stops."""
    pool = twilio_stack.pool
    made = await contact(twilio_stack, "notify", await knowing(pool), kind=kind)
    await report(pool, made.account_id, reported_events.CONTACT_CEASED, "REQ-1")
    if kind is NotifyKind.CREDIT_RESTRICTION:
        await made.run()
        assert (await ledger_row(pool, made.idempotency_key))["status"] == "delivered"
        return
    with pytest.raises(ApplicationError) as withheld:
        await made.run()
    assert withheld.value.type == CONTACT_WITHHELD
    assert (await ledger_row(pool, made.idempotency_key))["status"] == "withheld"


async def test_a_payment_is_still_reported_as_a_payment(twilio_stack: TwilioStack) -> None:
    """Payments come first: the withholding's details are the ones they always were."""
    pool = twilio_stack.pool
    basis = await knowing(pool)
    made = await contact(twilio_stack, "sms", basis)
    await report(pool, made.account_id, reported_events.CONTACT_CEASED, "REQ-1")
    async with pool.acquire() as conn:
        await reported_events.record_once(
            conn,
            account_id=made.account_id,
            kind=reported_events.PAYMENT_REPORTED,
            event_id="PAY-1",
            actor="billing",
            details={"payment_id": "PAY-1"},
        )
    with pytest.raises(ApplicationError) as withheld:
        await made.run()
    assert withheld.value.details[0] == {"unseen_payments": 1}

"""The SMS activity against embedded Postgres and the fake Twilio, through the real SDK.

Attempts run the way Temporal runs them: retryable failures again after a backoff, until a
result or a non-retryable error (tests/integration/side_effects/support.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.sms import (
    SMS_ATTEMPT_IN_FLIGHT,
    SMS_NOT_SENT,
    SMS_OUTCOME_UNKNOWN,
    SMS_REFUSED,
    SmsActivities,
)
from activities.sms_types import OutboundSms, SentSms
from activities.twilio_sender import TwilioSmsSender
from overdue.number_refs import number_ref
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.support import (
    Attempts,
    Customer,
    add_customer,
    decided_now,
    report_payment,
    run_like_temporal,
    sms_input,
    twilio_sender,
)
from workers.fakes.twilio import FakeTwilio, FaultKind
from workflows.contact_types import CONTACT_WITHHELD, SendSmsResult, SmsFailure

pytestmark = pytest.mark.integration


@pytest.fixture
async def sender(
    fake_twilio: FakeTwilio, twilio_stack: TwilioStack
) -> AsyncIterator[TwilioSmsSender]:
    sender = twilio_sender(fake_twilio.url, twilio_stack.settings.public_url)
    try:
        yield sender
    finally:
        await sender.close()


@pytest.fixture
def sms(twilio_stack: TwilioStack, sender: TwilioSmsSender) -> SmsActivities:
    return SmsActivities(twilio_stack.pool, sender)


async def ledger(stack: TwilioStack, key: str) -> dict[str, object]:
    row = await stack.pool.fetchrow("SELECT * FROM contact_ledger WHERE idempotency_key = $1", key)
    assert row is not None
    return dict(row)


async def events(stack: TwilioStack, key: str) -> list[tuple[str, str, str | None]]:
    rows = await stack.pool.fetch(
        """
        SELECT e.kind, e.status, e.error_code FROM contact_events e
          JOIN contact_ledger l ON l.id = e.ledger_id
         WHERE l.idempotency_key = $1 ORDER BY e.id
        """,
        key,
    )
    return [(r["kind"], r["status"], r["error_code"]) for r in rows]


async def audit_kinds(stack: TwilioStack, account_id: str) -> list[str]:
    rows = await stack.pool.fetch(
        "SELECT kind FROM audit_events WHERE account_id = $1 ORDER BY id", account_id
    )
    return [r["kind"] for r in rows]


def messages_to(fake: FakeTwilio, customer: Customer) -> list[str]:
    return [m.sid for m in fake.messages.values() if m.to == customer.phone]


async def test_sends_once_in_the_customers_locale_and_callbacks_complete_the_row(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, sms: SmsActivities
) -> None:
    customer = await add_customer(twilio_stack.pool, name="Qian Xiaoyu", locale="zh-CN")
    input = sms_input(customer)

    first = await ActivityEnvironment().run(sms.send_sms, input)
    again = await ActivityEnvironment().run(sms.send_sms, input)

    assert isinstance(first, SendSmsResult)
    assert (first.status, first.already_sent, first.encoding) == ("queued", False, "UCS-2")
    assert again.already_sent is True
    assert again.provider_id == first.provider_id
    [sid] = messages_to(fake_twilio, customer)
    message = fake_twilio.messages[sid]
    assert sid == first.provider_id
    assert message.body.startswith("Qian Xiaoyu您好，您于2026-11-20到期的1234.56CNY")  # noqa: RUF001
    assert message.num_segments == first.segments == 1
    assert message.status_callback is not None and message.status_callback.endswith(
        f"/webhooks/twilio/status?ref={(await ledger(twilio_stack, input.idempotency_key))['id']}"
    )

    await fake_twilio.settle()
    row = await ledger(twilio_stack, input.idempotency_key)
    assert (row["status"], row["recipient"], row["segments"]) == ("delivered", customer.phone, 1)
    assert [e[:2] for e in await events(twilio_stack, input.idempotency_key)] == [
        ("status", "pending"),
        ("status", "queued"),
        ("status", "sent"),
        ("status", "delivered"),
    ]
    assert await audit_kinds(twilio_stack, customer.account_id) == ["sms.accepted"]


async def test_opted_out_at_twilio_marks_the_number_and_is_not_retried(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, sms: SmsActivities
) -> None:
    customer = await add_customer(twilio_stack.pool)
    fake_twilio.fail_number(customer.phone, 21610)
    input = sms_input(customer)

    for _ in range(2):  # a retry of the same key answers the same, without calling Twilio
        with pytest.raises(ApplicationError) as refused:
            await ActivityEnvironment().run(sms.send_sms, input)
        assert refused.value.type == SmsFailure.RECIPIENT_OPTED_OUT
        assert refused.value.non_retryable
        assert refused.value.details == ({"error_code": "21610"},)

    row = await ledger(twilio_stack, input.idempotency_key)
    assert (row["status"], row["error_code"], row["attempts"]) == ("rejected", "21610", 1)
    assert await twilio_stack.pool.fetchval(
        "SELECT opted_out FROM sms_opt_outs WHERE number_ref = $1", number_ref(customer.phone)
    )
    assert await audit_kinds(twilio_stack, customer.account_id) == [
        "sms.rejected",
        "sms.consent_changed",
    ]

    # Another account with the same number is blocked here, before Twilio is asked.
    sibling = await add_customer(twilio_stack.pool, phone=customer.phone)
    with pytest.raises(ApplicationError) as blocked:
        await ActivityEnvironment().run(sms.send_sms, sms_input(sibling))
    assert blocked.value.type == SmsFailure.RECIPIENT_OPTED_OUT
    sibling_row = await ledger(twilio_stack, sms_input(sibling).idempotency_key)
    assert (sibling_row["status"], sibling_row["error_code"]) == ("blocked", "opted_out")
    assert messages_to(fake_twilio, customer) == []


@pytest.mark.parametrize("code", [21211, 21614])
async def test_unreachable_number_is_not_retried_and_not_an_opt_out(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, sms: SmsActivities, code: int
) -> None:
    customer = await add_customer(twilio_stack.pool)
    fake_twilio.fail_number(customer.phone, code)
    input = sms_input(customer)

    with pytest.raises(ApplicationError) as refused:
        await run_like_temporal(sms.send_sms, input)

    assert refused.value.type == SmsFailure.UNREACHABLE_NUMBER
    assert refused.value.non_retryable
    row = await ledger(twilio_stack, input.idempotency_key)
    assert (row["status"], row["error_code"]) == ("rejected", str(code))
    assert not await twilio_stack.pool.fetchval(
        "SELECT count(*) FROM sms_opt_outs WHERE number_ref = $1", number_ref(customer.phone)
    )


async def test_other_refusals_are_final_too(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, sms: SmsActivities
) -> None:
    customer = await add_customer(twilio_stack.pool)
    fake_twilio.fail_number(customer.phone, 21408)  # region not enabled: permanent
    with pytest.raises(ApplicationError) as refused:
        await run_like_temporal(sms.send_sms, sms_input(customer))
    assert (refused.value.type, refused.value.non_retryable) == (SMS_REFUSED, True)


@pytest.mark.parametrize(
    ("fault", "first_error", "failure_event"),
    [
        (FaultKind.TOO_MANY_REQUESTS, SMS_NOT_SENT, ("provider_error", "pending", "20429")),
        (FaultKind.SERVER_ERROR, SMS_OUTCOME_UNKNOWN, ("outcome_unknown", "pending", "http_500")),
        (
            FaultKind.SERVICE_UNAVAILABLE,
            SMS_OUTCOME_UNKNOWN,
            ("outcome_unknown", "pending", "http_503"),
        ),
        (FaultKind.TIMEOUT, SMS_OUTCOME_UNKNOWN, ("outcome_unknown", "pending", "no_answer")),
    ],
)
async def test_transient_failures_retry_and_send_once(
    twilio_stack: TwilioStack,
    fake_twilio: FakeTwilio,
    sms: SmsActivities,
    fault: FaultKind,
    first_error: str,
    failure_event: tuple[str, str, str],
) -> None:
    customer = await add_customer(twilio_stack.pool)
    input = sms_input(customer)
    fake_twilio.faults.queued.append(fault)
    attempts = Attempts()

    result = await run_like_temporal(sms.send_sms, input, attempts=attempts)

    assert isinstance(result, SendSmsResult)
    assert attempts.errors[0] == first_error
    assert result.already_sent is False  # nothing was created: this attempt sent it
    assert len(messages_to(fake_twilio, customer)) == 1
    assert failure_event in await events(twilio_stack, input.idempotency_key)


@pytest.mark.parametrize("fault", [FaultKind.RESPONSE_LOST, FaultKind.ACCEPTED_TIMEOUT])
async def test_accepted_but_unanswered_is_reconciled_not_resent(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, sms: SmsActivities, fault: FaultKind
) -> None:
    fake_twilio.callback_delay = 60  # no callback tells us first: the lookup must
    customer = await add_customer(twilio_stack.pool)
    input = sms_input(customer)
    fake_twilio.faults.queued.append(fault)
    attempts = Attempts()

    result = await run_like_temporal(sms.send_sms, input, attempts=attempts)

    assert isinstance(result, SendSmsResult)
    [sid] = messages_to(fake_twilio, customer)
    assert fake_twilio.injected[0].created_sid == sid
    assert (result.provider_id, result.already_sent, result.status) == (sid, True, "queued")
    assert attempts.errors[0] == SMS_OUTCOME_UNKNOWN
    assert fake_twilio.api_calls == ["POST", "GET"]  # one create, one lookup, no resend
    row = await ledger(twilio_stack, input.idempotency_key)
    assert row["attempted_at"] is None
    source = await twilio_stack.pool.fetchval(
        "SELECT source FROM contact_events WHERE ledger_id = $1 AND status = 'queued'", row["id"]
    )
    assert source == "reconciliation"


async def test_a_status_callback_that_outruns_the_lost_answer_settles_the_row(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, sms: SmsActivities
) -> None:
    customer = await add_customer(twilio_stack.pool)
    input = sms_input(customer)
    fake_twilio.faults.queued.append(FaultKind.RESPONSE_LOST)
    with pytest.raises(ApplicationError) as lost:
        await ActivityEnvironment().run(sms.send_sms, input)
    assert lost.value.type == SMS_OUTCOME_UNKNOWN and not lost.value.non_retryable

    await fake_twilio.settle()  # the callback URL's ref finds the row without the sid
    result = await ActivityEnvironment().run(sms.send_sms, input)

    [sid] = messages_to(fake_twilio, customer)
    assert (result.provider_id, result.status, result.already_sent) == (sid, "delivered", True)
    assert fake_twilio.api_calls == ["POST"]


async def test_a_failed_lookup_keeps_the_outcome_unknown_until_twilio_answers(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, sms: SmsActivities
) -> None:
    fake_twilio.callback_delay = 60
    customer = await add_customer(twilio_stack.pool)
    input = sms_input(customer)
    # The create's answer is lost, then the first lookup fails too.
    fake_twilio.faults.queued.extend([FaultKind.RESPONSE_LOST, FaultKind.SERVER_ERROR])
    attempts = Attempts()

    result = await run_like_temporal(sms.send_sms, input, attempts=attempts)

    assert isinstance(result, SendSmsResult) and result.already_sent
    assert len(messages_to(fake_twilio, customer)) == 1
    assert fake_twilio.api_calls == ["POST", "GET", "GET"]
    kinds = [e[0] for e in await events(twilio_stack, input.idempotency_key)]
    assert (kinds.count("outcome_unknown"), kinds.count("reconcile_failed")) == (1, 1)


async def test_missing_contact_is_a_clear_permanent_error(sms: SmsActivities) -> None:
    customer = Customer(account_id="acct-nobody", name="-", phone="+8613900000000", locale="en")
    with pytest.raises(ApplicationError) as missing:
        await ActivityEnvironment().run(sms.send_sms, sms_input(customer))
    assert missing.value.type == "MissingContact"
    assert missing.value.non_retryable
    assert "acct-nobody" in str(missing.value)


async def test_a_payment_after_the_decision_withholds_the_message(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, sms: SmsActivities
) -> None:
    customer = await add_customer(twilio_stack.pool)
    basis = await decided_now(twilio_stack.pool)
    await report_payment(twilio_stack.pool, customer.account_id, "PAY-1")
    input = sms_input(customer).model_copy(update={"basis": basis})

    for _ in range(2):  # the same key again answers the same, without asking Twilio
        with pytest.raises(ApplicationError) as withheld:
            await ActivityEnvironment().run(sms.send_sms, input)
        assert (withheld.value.type, withheld.value.non_retryable) == (CONTACT_WITHHELD, True)

    assert messages_to(fake_twilio, customer) == []
    assert fake_twilio.api_calls == []
    assert (await ledger(twilio_stack, input.idempotency_key))["status"] == "withheld"
    assert await audit_kinds(twilio_stack, customer.account_id) == [
        "payment.reported",
        "sms.withheld",
    ]


async def test_payments_the_decision_knew_or_from_before_the_run_do_not_withhold(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, sms: SmsActivities
) -> None:
    customer = await add_customer(twilio_stack.pool)
    await report_payment(twilio_stack.pool, customer.account_id, "PAY-OLD")  # an earlier run's
    basis = await decided_now(twilio_stack.pool, known=("PAY-1",))
    await report_payment(twilio_stack.pool, customer.account_id, "PAY-1")
    input = sms_input(customer).model_copy(update={"basis": basis})

    result = await ActivityEnvironment().run(sms.send_sms, input)

    assert isinstance(result, SendSmsResult) and result.status == "queued"
    assert len(messages_to(fake_twilio, customer)) == 1


class _HeldSender:
    """The real Twilio sender, whose first send waits until the test lets it go."""

    def __init__(self, inner: TwilioSmsSender) -> None:
        self.inner = inner
        self.name = inner.name
        self.reconcile_after = inner.reconcile_after
        self.sending = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, message: OutboundSms) -> SentSms:
        self.sending.set()
        await self.release.wait()
        return await self.inner.send(message)

    async def find(self, message: OutboundSms, since: datetime) -> list[SentSms]:
        return await self.inner.find(message, since)


async def test_an_attempt_while_the_first_is_at_the_provider_waits_and_one_message_goes(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, sender: TwilioSmsSender
) -> None:
    """The first attempt writes its row already claimed: a second attempt for the key (the
    first timed out at the server but still runs) waits out the claim instead of sending."""
    customer = await add_customer(twilio_stack.pool)
    input = sms_input(customer)
    held = _HeldSender(sender)
    sms = SmsActivities(twilio_stack.pool, held)

    first = asyncio.create_task(ActivityEnvironment().run(sms.send_sms, input))
    await asyncio.wait_for(held.sending.wait(), timeout=10)
    row = await ledger(twilio_stack, input.idempotency_key)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["attempted_at"] is not None
    with pytest.raises(ApplicationError) as in_flight:
        await ActivityEnvironment().run(sms.send_sms, input)
    assert in_flight.value.type == SMS_ATTEMPT_IN_FLIGHT
    assert not in_flight.value.non_retryable
    delay = in_flight.value.next_retry_delay
    assert delay is not None and timedelta(0) < delay <= sender.reconcile_after

    held.release.set()
    sent = await asyncio.wait_for(first, timeout=10)
    assert sent.already_sent is False
    assert messages_to(fake_twilio, customer) == [sent.provider_id]
    again = await ActivityEnvironment().run(sms.send_sms, input)
    assert (again.already_sent, again.provider_id) == (True, sent.provider_id)
    row = await ledger(twilio_stack, input.idempotency_key)
    assert (row["attempts"], row["attempted_at"]) == (1, None)

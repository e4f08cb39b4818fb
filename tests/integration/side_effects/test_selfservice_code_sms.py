"""The self-service code's SMS activity against the fake Twilio, with faults: one form key is
one message, with one code, however the attempts fail or run twice; the ledger keeps the body
masked, and the code is checked by its hash (docs/self-service.md "The one-time code")."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.selfservice_code import CODE_EXPIRED, MASK, SelfServiceCodeActivities
from activities.sms import SMS_REFUSED
from activities.twilio_sender import TwilioSmsSender
from overdue.store import contact_ledger, selfservice_codes, selfservice_links
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.support import (
    Customer,
    add_customer,
    run_like_temporal,
    sms_input,
    twilio_sender,
)
from workers.fakes.twilio import FakeTwilio, FaultKind
from workflows.contact_types import SendSmsInput, SendSmsResult

pytestmark = pytest.mark.integration
_CODE = re.compile(r"(?<![0-9])([0-9]{6})(?![0-9])")


@pytest.fixture
async def code_sms(
    fake_twilio: FakeTwilio, twilio_stack: TwilioStack
) -> AsyncIterator[SelfServiceCodeActivities]:
    sender: TwilioSmsSender = twilio_sender(fake_twilio.url, twilio_stack.settings.public_url)
    try:
        yield SelfServiceCodeActivities(twilio_stack.pool, sender)
    finally:
        await sender.close()


async def _requested(stack: TwilioStack, customer: Customer) -> tuple[SendSmsInput, bytes]:
    """A code form taken on a new link of the customer's account; the activity's input."""
    token_hash = secrets.token_bytes(32)
    await selfservice_links.store_link(
        stack.pool,
        token_hash,
        account_id=customer.account_id,
        episode_id="episode-1",
        attempt_key=f"{customer.account_id}/episode-1/d1_sms/1",
        lifetime=timedelta(days=1),
    )
    key = secrets.token_hex(16)
    taken = await selfservice_codes.request_code(
        stack.pool,
        request_key=key,
        token_hash=token_hash,
        account_id=customer.account_id,
        per_day=3,
        interval=timedelta(seconds=60),
        lifetime=timedelta(minutes=10),
    )
    assert taken == selfservice_codes.Requested(new=True)
    stage = sms_input(customer)
    input = stage.model_copy(
        update={
            "idempotency_key": f"{customer.account_id}/episode-1/selfservice_code/{key}",
            "stage_id": "selfservice_code",
            "template_id": "selfservice_code",
            "templates": {},
        }
    )
    return input, token_hash


@pytest.mark.parametrize("fault", [FaultKind.RESPONSE_LOST, FaultKind.ACCEPTED_TIMEOUT])
async def test_one_code_message_per_form_under_faults_and_duplicates(
    twilio_stack: TwilioStack,
    fake_twilio: FakeTwilio,
    code_sms: SelfServiceCodeActivities,
    fault: FaultKind,
) -> None:
    fake_twilio.callback_delay = 60  # the lookup, not a callback, must find the message
    customer = await add_customer(twilio_stack.pool, locale="zh-CN")
    input, token_hash = await _requested(twilio_stack, customer)
    fake_twilio.faults.queued.append(fault)

    results = await asyncio.gather(
        run_like_temporal(code_sms.send_selfservice_code, input),
        run_like_temporal(code_sms.send_selfservice_code, input),
    )

    assert all(isinstance(r, SendSmsResult) for r in results)
    [message] = [m for m in fake_twilio.messages.values() if m.to == customer.phone]
    code = _CODE.findall(message.body)[0]
    assert "验证码" in message.body
    row = await contact_ledger.find(
        twilio_stack.pool, input.idempotency_key, channel="sms", account_id=customer.account_id
    )
    assert row is not None and row.provider_id == message.sid
    assert row.body == message.body.replace(code, MASK) and code not in (row.body or "")
    request = await selfservice_codes.code_request(twilio_stack.pool, input.idempotency_key[-32:])
    assert request is not None and request.code_sealed is None  # sent: only the hash stays
    # The code opens its own link once, and no other.
    other = secrets.token_bytes(32)
    hashed = selfservice_codes.code_hash(token_hash, code)
    assert not await selfservice_codes.use_code(
        twilio_stack.pool, other, selfservice_codes.code_hash(other, code)
    )
    assert await selfservice_codes.use_code(twilio_stack.pool, token_hash, hashed)
    assert not await selfservice_codes.use_code(twilio_stack.pool, token_hash, hashed)


async def test_an_opted_out_number_is_refused_and_nothing_sent(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, code_sms: SelfServiceCodeActivities
) -> None:
    from overdue.store import sms_consent

    customer = await add_customer(twilio_stack.pool)
    input, _ = await _requested(twilio_stack, customer)
    async with twilio_stack.pool.acquire() as conn:
        await sms_consent.set_consent(conn, customer.phone, opted_out=True, source="test")
    with pytest.raises(Exception) as refused:
        await run_like_temporal(code_sms.send_selfservice_code, input)
    assert "opted out" in str(refused.value)
    assert [m for m in fake_twilio.messages.values() if m.to == customer.phone] == []


async def test_a_code_gone_stale_in_an_outage_is_not_sent(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, code_sms: SelfServiceCodeActivities
) -> None:
    customer = await add_customer(twilio_stack.pool)
    input, _ = await _requested(twilio_stack, customer)
    fake_twilio.faults.queued.append(FaultKind.TOO_MANY_REQUESTS)
    with pytest.raises(ApplicationError) as outage:
        await ActivityEnvironment().run(code_sms.send_selfservice_code, input)
    assert not outage.value.non_retryable  # certainly not sent: retried
    await twilio_stack.pool.execute(
        "UPDATE selfservice_codes SET code_at = code_at - interval '11 minutes' "
        "WHERE request_key = $1",
        input.idempotency_key[-32:],
    )
    with pytest.raises(ApplicationError) as stale:
        await ActivityEnvironment().run(code_sms.send_selfservice_code, input)
    assert stale.value.non_retryable and stale.value.type == SMS_REFUSED
    assert [m for m in fake_twilio.messages.values() if m.to == customer.phone] == []
    row = await contact_ledger.find(
        twilio_stack.pool, input.idempotency_key, channel="sms", account_id=customer.account_id
    )
    assert row is not None and (row.status, row.error_code) == ("rejected", CODE_EXPIRED)

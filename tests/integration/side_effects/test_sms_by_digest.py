"""An SMS input that names its policy by digest (release policy-by-digest-2026-12): the activity
reads the template from the version, sends what the whole input would have sent, and a version
not on the shelf yet fails the attempt before anything is written or sent; the worker's codec
shelves the version an activity's input names from Postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import ActivityEnvironment

import workflows.policy_shelf as shelf
from activities.sms import SmsActivities
from activities.twilio_sender import TwilioSmsSender
from overdue.store import policy_versions
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.support import (
    TEMPLATES,
    add_customer,
    sms_input,
    twilio_sender,
)
from workers.fakes.twilio import FakeTwilio
from workers.policy_codec import PolicyShelfCodec
from workflows.contact_types import SendSmsInput
from workflows.policy import Policy

pytestmark = pytest.mark.integration

POLICY = Policy.model_validate(
    {
        "id": "sms-by-digest",
        "version": 1,
        "contact_windows": {"default": {"start": "00:00", "end": "23:59"}},
        "stages": [{"id": "d1_sms", "offset": "1d", "channel": "sms", "template": "notice"}],
        "templates": {"notice": TEMPLATES},
    }
)


@pytest.fixture
async def sms(fake_twilio: FakeTwilio, twilio_stack: TwilioStack) -> AsyncIterator[SmsActivities]:
    sender: TwilioSmsSender = twilio_sender(fake_twilio.url, twilio_stack.settings.public_url)
    try:
        yield SmsActivities(twilio_stack.pool, sender)
    finally:
        await sender.close()


def _bodies(fake: FakeTwilio, phone: str) -> list[str]:
    return [m.body for m in fake.messages.values() if m.to == phone]


async def test_the_template_comes_from_the_named_version(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, sms: SmsActivities
) -> None:
    ref = await policy_versions.keep(twilio_stack.pool, POLICY)
    whole_to = await add_customer(twilio_stack.pool, name="Zhao Lei", locale="zh-CN")
    by_ref_to = await add_customer(twilio_stack.pool, name="Zhao Lei", locale="zh-CN")
    by_ref = sms_input(by_ref_to).model_copy(update={"templates": {}, "policy_ref": ref})

    await ActivityEnvironment().run(sms.send_sms, sms_input(whole_to))
    await ActivityEnvironment().run(sms.send_sms, by_ref)

    [whole_body] = _bodies(fake_twilio, whole_to.phone)
    assert _bodies(fake_twilio, by_ref_to.phone) == [whole_body]


async def test_a_version_not_on_the_shelf_fails_the_attempt_and_writes_nothing(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, sms: SmsActivities
) -> None:
    ref = await policy_versions.keep(twilio_stack.pool, POLICY)
    shelf.clear()
    customer = await add_customer(twilio_stack.pool, name="Zhao Lei", locale="en")
    input = sms_input(customer).model_copy(update={"templates": {}, "policy_ref": ref})
    with pytest.raises(RuntimeError, match="not on the shelf"):
        await ActivityEnvironment().run(sms.send_sms, input)
    assert _bodies(fake_twilio, customer.phone) == []
    rows = await twilio_stack.pool.fetchval(
        "SELECT count(*) FROM contact_ledger WHERE idempotency_key = $1", input.idempotency_key
    )
    assert rows == 0

    # What the worker's codec does with the activity task's payload before the next attempt.
    [payload] = pydantic_data_converter.payload_converter.to_payloads([input])
    await PolicyShelfCodec(twilio_stack.pool).decode([payload])
    assert shelf.take(ref.digest) == POLICY
    [decoded] = pydantic_data_converter.payload_converter.from_payloads([payload], [SendSmsInput])
    await ActivityEnvironment().run(sms.send_sms, decoded)
    assert len(_bodies(fake_twilio, customer.phone)) == 1

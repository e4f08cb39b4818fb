"""The `{link}` placeholder through the real SMS activity and the fake Twilio: a link minted
when the body is rendered, stored hashed, scoped to the attempt's account and episode; a retry
of the attempt sends the same body, so the same link, and mints no other."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from temporalio.testing import ActivityEnvironment

from activities.sms import SmsActivities
from activities.twilio_sender import TwilioSmsSender
from overdue.store.selfservice_links import find_link, token_hash
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.support import add_customer, sms_input, twilio_sender
from workers.fakes.twilio import FakeTwilio

pytestmark = pytest.mark.integration
TEMPLATES = {"en": "Hi {name}, {amount} {currency} overdue. Pay or arrange: {link} Reply STOP."}


@pytest.fixture
async def sms(fake_twilio: FakeTwilio, twilio_stack: TwilioStack) -> AsyncIterator[SmsActivities]:
    sender: TwilioSmsSender = twilio_sender(fake_twilio.url, twilio_stack.settings.public_url)
    try:
        yield SmsActivities(twilio_stack.pool, sender)
    finally:
        await sender.close()


async def test_one_link_per_attempt_even_on_retry(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, sms: SmsActivities
) -> None:
    customer = await add_customer(twilio_stack.pool, name="Wang Fang", locale="en")
    input = sms_input(customer).model_copy(update={"templates": TEMPLATES})
    await ActivityEnvironment().run(sms.send_sms, input)
    await ActivityEnvironment().run(sms.send_sms, input)  # a retry: already sent

    [body] = [m.body for m in fake_twilio.messages.values() if m.to == customer.phone]
    found = re.search(r"/s/([A-Za-z0-9_-]{22})(?:\s|$)", body)
    assert found, body
    token = found.group(1)
    assert customer.account_id not in body and customer.phone not in body
    link = await find_link(twilio_stack.pool, token_hash(token))
    assert link is not None
    assert (link.account_id, link.episode_id, link.attempt_key) == (
        customer.account_id,
        "episode-1",
        input.idempotency_key,
    )
    rows = await twilio_stack.pool.fetchval(
        "SELECT count(*) FROM selfservice_links WHERE account_id = $1", customer.account_id
    )
    assert rows == 1
    stored = await twilio_stack.pool.fetchval(
        "SELECT count(*) FROM selfservice_links WHERE token_hash = $1", token.encode()
    )
    assert stored == 0  # only the hash is kept


async def test_a_template_without_link_mints_none(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, sms: SmsActivities
) -> None:
    customer = await add_customer(twilio_stack.pool, locale="en")
    await ActivityEnvironment().run(sms.send_sms, sms_input(customer))
    rows = await twilio_stack.pool.fetchval(
        "SELECT count(*) FROM selfservice_links WHERE account_id = $1", customer.account_id
    )
    assert rows == 0

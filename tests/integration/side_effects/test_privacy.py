"""No personal data in logs or errors: an integration run with every failure path, searched.

Every log record of the run (ours, the SDK's, aiohttp's, Temporal's, the fake's, at DEBUG) and
every error the activities raise is searched for the names and numbers used. Twilio's own
error text quotes the number (21211); it must stop at the ledger.
"""

from __future__ import annotations

import logging

import pytest
from temporalio.exceptions import ApplicationError

from activities.sms import SmsActivities
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.support import (
    TWILIO_FROM,
    add_customer,
    run_like_temporal,
    sms_input,
    twilio_sender,
)
from workers.fakes.twilio import FakeTwilio, FaultKind

pytestmark = pytest.mark.integration

NAMES = ("Xu Jiaying", "徐佳颖")
PHONES = ("+8613911112222", "+8613933334444", "+8613955556666", "+8613977778888")


async def test_no_name_or_number_in_any_log_line_or_error(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pool = twilio_stack.pool
    sent = await add_customer(pool, name=NAMES[0], phone=PHONES[0])
    opted_out = await add_customer(pool, name=NAMES[1], phone=PHONES[1], locale="zh-CN")
    invalid = await add_customer(pool, name=NAMES[0], phone=PHONES[2])
    replier = await add_customer(pool, name=NAMES[1], phone=PHONES[3])
    fake_twilio.fail_number(opted_out.phone, 21610)
    fake_twilio.fail_number(invalid.phone, 21211)
    fake_twilio.faults.queued.extend(
        [
            FaultKind.RESPONSE_LOST,
            FaultKind.SERVER_ERROR,
            FaultKind.TIMEOUT,
            FaultKind.TOO_MANY_REQUESTS,
            FaultKind.ACCEPTED_TIMEOUT,
            FaultKind.SERVICE_UNAVAILABLE,
        ]
    )
    sender = twilio_sender(fake_twilio.url, twilio_stack.settings.public_url)
    sms = SmsActivities(pool, sender)
    errors: list[str] = []
    try:
        for customer in (sent, opted_out, invalid, replier):
            try:
                await run_like_temporal(sms.send_sms, sms_input(customer))
            except ApplicationError as err:
                errors.append(f"{err} {err.details} {err.type}")
    finally:
        await sender.close()
    await fake_twilio.settle()
    webhook = f"{twilio_stack.settings.public_url}/webhooks/twilio/inbound"
    for body in ("STOP", "HELP", f"This is {NAMES[1]}, I will pay tomorrow", "START"):
        status, _ = await fake_twilio.send_inbound(webhook, replier.phone, body, to=TWILIO_FROM)
        assert status == 200

    assert len(errors) == 2  # the opt-out and the invalid number
    assert [m.to for m in fake_twilio.messages.values()] == [sent.phone, replier.phone]
    ledger_error = await pool.fetchval(
        "SELECT error_message FROM contact_ledger WHERE account_id = $1", invalid.account_id
    )
    assert invalid.phone.lstrip("+") in ledger_error  # Twilio's text, kept where it belongs
    records = "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "fault injected" in records and "twilio request" in records  # we did look
    for secret in (*NAMES, *PHONES, *(p.lstrip("+") for p in PHONES), "pay tomorrow"):
        assert secret not in records, secret
        assert secret not in caplog.text, secret
        assert not [e for e in errors if secret in e], secret

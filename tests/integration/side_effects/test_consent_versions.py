"""Inbound STOP/START signal the stored consent with its version, never the keyword of a
redelivered message (issue 13): STOP, START, then the STOP redelivered leaves the number opted
in, in Postgres and in the account's workflow."""

from __future__ import annotations

import pytest
from temporalio.api.enums.v1 import EventType

from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.support import add_customer
from tests.integration.side_effects.test_twilio_webhooks import (
    INBOUND_PATH,
    Handle,
    inbound_params,
    opted_out,
    post_signed,
    start_process,
)
from tests.workflows.records import make_record
from tests.workflows.test_overdue_account import POLICY
from workflows.account import apply_sms_consent
from workflows.types import SmsConsentChanged

pytestmark = pytest.mark.integration


async def signalled_changes(stack: TwilioStack, handle: Handle) -> list[SmsConsentChanged]:
    found = []
    for event in (await handle.fetch_history()).events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            payloads = event.workflow_execution_signaled_event_attributes.input.payloads
            [change] = await stack.temporal.data_converter.decode(payloads, [SmsConsentChanged])
            found.append(change)
    return found


async def test_a_redelivered_stop_after_start_leaves_the_number_opted_in(
    twilio_stack: TwilioStack,
) -> None:
    customer = await add_customer(twilio_stack.pool)
    flow = await start_process(twilio_stack, customer, [])
    stop = inbound_params(customer.phone, "STOP")
    for params in (stop, inbound_params(customer.phone, "START"), stop):
        code, _ = await post_signed(twilio_stack, INBOUND_PATH, params)
        assert code == 200

    assert await opted_out(twilio_stack, customer.phone) is False
    changes = await signalled_changes(twilio_stack, flow)
    assert [c.opted_out for c in changes] == [True, False, False]  # the stored state, 3 times
    versions = [c.version for c in changes]
    assert versions[0] is not None and versions[1] is not None
    assert versions[0] < versions[1] == versions[2]
    # What the workflow's handler does with them, in the order they arrived, and with the
    # stale STOP's own version arriving last (a signal delayed in flight):
    for order in (changes, [changes[1], changes[0]]):
        record = make_record(POLICY)
        for change in order:
            apply_sms_consent(record, change)
        assert not record.sms_opted_out
    await flow.terminate("test over")

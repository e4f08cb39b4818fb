"""The SMS worker on its own rate-limited task queue, driven by a real workflow."""

from __future__ import annotations

import uuid

import pytest
from temporalio.worker import Worker

from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.sms_workflow import SendOnQueue, SendSmsWorkflow, SmsOutcome
from tests.integration.side_effects.support import add_customer, sms_input, twilio_sender
from workers.fakes.twilio import FakeTwilio, FaultKind
from workers.main import build_sms_worker
from workers.sandbox import workflow_runner
from workflows.contact_types import SmsFailure

pytestmark = pytest.mark.integration


async def test_sms_worker_sends_once_and_reports_refusals_by_type(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.callback_delay = 60  # the lookup, not a callback, settles the lost answer
    sms_queue, workflow_queue = (f"{kind}-{uuid.uuid4().hex}" for kind in ("sms", "wf"))
    sender = twilio_sender(fake_twilio.url, twilio_stack.settings.public_url)
    sms_worker = build_sms_worker(
        twilio_stack.temporal, twilio_stack.pool, sender, rate_per_second=20, task_queue=sms_queue
    )
    assert sms_worker.config().get("max_task_queue_activities_per_second") == 20
    lost, opted_out, landline = [await add_customer(twilio_stack.pool) for _ in range(3)]
    fake_twilio.fail_number(opted_out.phone, 21610)
    fake_twilio.fail_number(landline.phone, 21614)
    fake_twilio.faults.queued.append(FaultKind.RESPONSE_LOST)

    async def send(customer_input: SendOnQueue) -> SmsOutcome:
        return await twilio_stack.temporal.execute_workflow(
            SendSmsWorkflow.run,
            customer_input,
            id=f"sms-test-{uuid.uuid4().hex}",
            task_queue=workflow_queue,
        )

    try:
        async with (
            sms_worker,
            Worker(
                twilio_stack.temporal,
                task_queue=workflow_queue,
                workflows=[SendSmsWorkflow],
                workflow_runner=workflow_runner(),
            ),
        ):
            delivered = await send(SendOnQueue(sms=sms_input(lost), task_queue=sms_queue))
            refused = await send(SendOnQueue(sms=sms_input(opted_out), task_queue=sms_queue))
            unreachable = await send(SendOnQueue(sms=sms_input(landline), task_queue=sms_queue))
    finally:
        await sender.close()

    [sid] = [m.sid for m in fake_twilio.messages.values() if m.to == lost.phone]
    assert delivered.result is not None
    assert (delivered.result.provider_id, delivered.result.already_sent) == (sid, True)
    assert (refused.failure_type, refused.non_retryable) == (
        SmsFailure.RECIPIENT_OPTED_OUT.value,
        True,
    )
    assert (unreachable.failure_type, unreachable.non_retryable) == (
        SmsFailure.UNREACHABLE_NUMBER.value,
        True,
    )
    assert len(fake_twilio.messages) == 1

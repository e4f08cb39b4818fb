"""Revocation by free text (TCPA 2024) through the real API: a signed inbound SMS such as
"please stop texting me" stops SMS at once and asks an agent to confirm; the agent's console
form confirms (a full opt-out, in the consent store too) or rejects it.

The webhook test signals processes on a task queue nobody polls, so their histories show exactly
what was sent; the console tests run real processes on the `stack` fixture's worker, with the
webhook served by `twilio_stack` (the same Postgres and Temporal).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.sms import BLOCKED_REVOCATION, SMS_REFUSED, SmsActivities
from api.revocation_requests import CONFIRM_PRIORITY, CONFIRM_STAGE
from overdue.number_refs import number_ref
from overdue.store import revocation_requests
from overdue.store.console_users import Role
from overdue.store.sealed_texts import open_text
from tests.integration.conftest import Stack
from tests.integration.console.conftest import csrf_of, logged_in, make_user
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.support import (
    add_customer,
    sms_input,
    twilio_sender,
    unique_phone,
)
from tests.integration.side_effects.test_twilio_webhooks import (
    INBOUND_PATH,
    inbound_params,
    post_signed,
)
from tests.integration.support import CUSTOMER_ZONE, NAME, start_account
from workers.fakes.twilio import FakeTwilio
from workflows.names import WORKFLOW_TYPE, workflow_id
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.policy import CallQueue
from workflows.types import AccountStatus, RevocationRequested

pytestmark = pytest.mark.integration
Handle = WorkflowHandle[Any, Any]


@pytest.fixture
async def unpolled(twilio_stack: TwilioStack) -> AsyncIterator[list[Handle]]:
    handles: list[Handle] = []
    yield handles
    for handle in handles:
        await handle.terminate("test over")


async def revocation_signals(stack: TwilioStack, handle: Handle) -> list[RevocationRequested]:
    found = []
    for event in (await handle.fetch_history()).events:
        if event.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            continue
        attributes = event.workflow_execution_signaled_event_attributes
        assert attributes.signal_name == "revocation_requested"
        [request] = await stack.temporal.data_converter.decode(
            attributes.input.payloads, [RevocationRequested]
        )
        found.append(request)
    return found


async def test_a_request_to_stop_texting_signals_at_once_and_asks_an_agent(
    twilio_stack: TwilioStack, unpolled: list[Handle], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first = await add_customer(twilio_stack.pool)
    second = await add_customer(twilio_stack.pool, phone=first.phone)
    for customer in (first, second):
        unpolled.append(
            await twilio_stack.temporal.start_workflow(
                WORKFLOW_TYPE,
                id=workflow_id(customer.account_id),
                task_queue=f"unpolled-{uuid.uuid4().hex}",
            )
        )
    text = "Please stop texting me, Zhou"
    params = inbound_params(first.phone, text)

    for _ in range(2):  # Twilio may deliver a webhook twice
        code, twiml = await post_signed(twilio_stack, INBOUND_PATH, params)
        assert code == 200 and twiml.endswith("<Response />")

    sid = params["MessageSid"]
    tasks = await twilio_stack.pool.fetch(
        """
        SELECT t.account_id, t.queue, t.stage_id, t.priority, t.status, m.kind
          FROM call_tasks t JOIN inbound_messages m ON m.id = t.inbound_message_id
         WHERE m.message_sid = $1 ORDER BY t.account_id
        """,
        sid,
    )
    assert [tuple(t) for t in tasks] == sorted(
        (c.account_id, "general", CONFIRM_STAGE, CONFIRM_PRIORITY, "open", "revocation_request")
        for c in (first, second)
    )
    for customer, handle in zip((first, second), unpolled, strict=True):
        # Signalled at each delivery (a retry after an outage gets through); the workflow
        # ignores the id it has seen. The text stays in Postgres, the signal has its id.
        signals = await revocation_signals(twilio_stack, handle)
        assert [s.request_id for s in signals] == [sid, sid]
        text_id = signals[0].text_id
        assert text_id is not None and signals[1].text_id == text_id
        kept = await twilio_stack.pool.fetchrow(
            "SELECT account_id, kind, text FROM free_texts WHERE id = $1", text_id
        )
        assert kept is not None
        opened = await open_text(twilio_stack.pool, kept["text"])
        assert (*tuple(kept)[:2], opened) == (customer.account_id, "sms.revocation_request", text)
        audited = await twilio_stack.pool.fetchval(
            """
            SELECT count(*) FROM audit_events
             WHERE account_id = $1 AND kind = 'sms.revocation_requested'
               AND details->>'text_id' = $2
            """,
            customer.account_id,
            text_id,
        )
        assert audited == 1
        assert text not in str(await handle.fetch_history())
    # Not an opt-out until an agent confirms it; the keyword path is untouched.
    assert (
        await twilio_stack.pool.fetchval(
            "SELECT count(*) FROM sms_opt_outs WHERE number_ref = $1", number_ref(first.phone)
        )
        == 0
    )
    assert text not in caplog.text and first.phone not in caplog.text


# --- the agent's decision in the console, on real processes --------------------------------


async def _requested(stack: Stack, twilio_stack: TwilioStack, body: str) -> tuple[str, str, int]:
    """A running account whose customer just replied `body`: (account, phone, confirm task)."""
    phone = unique_phone()
    customer = {"name": NAME, "phone": phone, "time_zone": CUSTOMER_ZONE, "locale": "zh-CN"}
    account = await start_account(stack, customer=customer)
    code, _ = await post_signed(twilio_stack, INBOUND_PATH, inbound_params(phone, body))
    assert code == 200
    # At once: the webhook answered after the process took the request.
    status = await _status(stack, account)
    assert status.revocation is not None and not status.sms_opted_out
    task_id: int = await stack.pool.fetchval(
        "SELECT id FROM call_tasks WHERE account_id = $1 AND stage_id = $2",
        account,
        CONFIRM_STAGE,
    )
    await stack.pool.execute(
        """
        UPDATE call_tasks SET status = 'cancelled', updated_at = now()
         WHERE queue = 'general' AND status = 'open' AND id <> $1
        """,
        task_id,
    )
    return account, phone, task_id


async def _status(stack: Stack, account: str) -> AccountStatus:
    handle = stack.temporal.get_workflow_handle(workflow_id(account))
    status: AccountStatus = await handle.query(OverdueAccountWorkflow.status)
    return status


async def _claim_and_decide(
    stack: Stack, task_id: int, body: str, form: dict[str, str]
) -> tuple[int, str]:
    """Claim the confirm task, refuse a malformed form, decide, and try deciding again."""
    agent = await make_user(stack, Role.AGENT, CallQueue.GENERAL)
    async with logged_in(stack, agent, **{"Accept-Language": "zh-CN"}) as browser:
        home = await browser.get("/console")
        claimed = await browser.post("/console/tasks/next", data={"csrf_token": csrf_of(home)})
        assert claimed.headers["location"] == f"/console/tasks/{task_id}"
        page = await browser.get(f"/console/tasks/{task_id}")
        assert 'data-testid="form-revocation"' in page.text
        assert 'data-testid="revocation"' in page.text and "短信已暂停" in page.text
        assert body in page.text  # the customer's words, read back for the agent
        token = csrf_of(page)
        wrong = await browser.post(
            f"/console/tasks/{task_id}/outcome",
            data={"csrf_token": token, "action": "revocation", "decision": "maybe"},
        )
        assert wrong.status_code == 422
        task = await stack.pool.fetchrow("SELECT account_id FROM call_tasks WHERE id = $1", task_id)
        assert task is not None
        assert (await _status(stack, task["account_id"])).revocation is not None  # unchanged
        decide = {"csrf_token": token, "action": "revocation", **form}
        answer = await browser.post(f"/console/tasks/{task_id}/outcome", data=decide)
        again = await browser.post(f"/console/tasks/{task_id}/outcome", data=decide)
        assert again.status_code == 422  # the workflow's validator: nothing is pending
        decisions = await stack.pool.fetchval(
            """
            SELECT count(*) FROM audit_events
             WHERE account_id = $1 AND kind = 'sms.revocation_decided'
            """,
            task["account_id"],
        )
        assert decisions == (1 if answer.status_code == 200 else 0)
        return answer.status_code, answer.text


async def test_an_agent_confirms_it_and_the_number_is_opted_out(
    stack: Stack, twilio_stack: TwilioStack
) -> None:
    body = "别再给我发短信了"
    account, phone, task_id = await _requested(stack, twilio_stack, body)
    note = "客户在电话中也确认了"
    code, page = await _claim_and_decide(
        stack, task_id, body, {"decision": "confirm", "note": note}
    )
    assert code == 200, page
    assert 'data-testid="form-revocation"' not in page

    status = await _status(stack, account)
    assert status.sms_opted_out and status.revocation is None
    consent = await stack.pool.fetchrow(
        "SELECT opted_out, source FROM sms_opt_outs WHERE number_ref = $1", number_ref(phone)
    )
    assert consent is not None and tuple(consent) == (True, "agent_confirmed_revocation")
    assert await _decisions(stack, phone) == ["confirmed"]
    decided = await stack.pool.fetchrow(
        """
        SELECT e.details, t.text FROM audit_events e JOIN free_texts t
            ON t.id = e.details->>'text_id'
         WHERE e.account_id = $1 AND e.kind = 'sms.revocation_decided'
        """,
        account,
    )
    assert decided is not None and await open_text(stack.pool, decided["text"]) == note
    assert '"confirm": true' in decided["details"]
    assert note not in str(
        await stack.temporal.get_workflow_handle(workflow_id(account)).fetch_history()
    )
    await stack.temporal.get_workflow_handle(workflow_id(account)).terminate("test over")


async def test_an_agent_rejects_it_and_sms_resume(stack: Stack, twilio_stack: TwilioStack) -> None:
    body = "stop texting me about the old card, text me about the new one"
    account, phone, task_id = await _requested(stack, twilio_stack, body)
    code, page = await _claim_and_decide(stack, task_id, body, {"decision": "reject"})
    assert code == 200, page

    status = await _status(stack, account)
    assert not status.sms_opted_out and status.revocation is None
    assert (
        await stack.pool.fetchval(
            "SELECT count(*) FROM sms_opt_outs WHERE number_ref = $1", number_ref(phone)
        )
        == 0
    )
    assert any("sms revocation rejected" in note for note in status.notes)
    assert await _decisions(stack, phone) == ["rejected"]
    assert not await revocation_requests.is_pending(stack.pool, phone)  # the fence lifts
    await stack.temporal.get_workflow_handle(workflow_id(account)).terminate("test over")


async def _decisions(stack: Stack, phone: str) -> list[str | None]:
    rows = await stack.pool.fetch(
        "SELECT decision FROM sms_revocation_requests WHERE number_ref = $1", number_ref(phone)
    )
    return [r["decision"] for r in rows]


# --- the SMS activity's fence, for a message in flight when the request came ----------------


@pytest.fixture
async def sms(fake_twilio: FakeTwilio, twilio_stack: TwilioStack) -> AsyncIterator[SmsActivities]:
    sender = twilio_sender(fake_twilio.url, twilio_stack.settings.public_url)
    try:
        yield SmsActivities(twilio_stack.pool, sender)
    finally:
        await sender.close()


async def test_a_pending_request_blocks_a_send_in_flight_until_decided(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio, sms: SmsActivities
) -> None:
    customer = await add_customer(twilio_stack.pool)
    code, _ = await post_signed(
        twilio_stack, INBOUND_PATH, inbound_params(customer.phone, "不要再发短信了")
    )
    assert code == 200
    blocked_input = sms_input(customer)
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(sms.send_sms, blocked_input)
    assert (refused.value.type, refused.value.non_retryable) == (SMS_REFUSED, True)
    row = await twilio_stack.pool.fetchrow(
        "SELECT status, error_code FROM contact_ledger WHERE idempotency_key = $1",
        blocked_input.idempotency_key,
    )
    assert row is not None and tuple(row) == ("blocked", BLOCKED_REVOCATION)
    assert [m for m in fake_twilio.messages.values() if m.to == customer.phone] == []

    # Rejected by an agent: the next message goes.
    async with twilio_stack.pool.acquire() as conn:
        assert await revocation_requests.decide(conn, customer.phone, "rejected", "agent-1") == 1
    later = sms_input(customer, stage_id="d7_sms")
    result = await ActivityEnvironment().run(sms.send_sms, later)
    assert result.status in ("sent", "queued", "accepted")

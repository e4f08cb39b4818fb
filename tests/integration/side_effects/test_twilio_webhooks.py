"""Twilio webhooks through the real API: signed status callbacks and inbound SMS.

Requests are signed with the SDK's RequestValidator, as Twilio signs them, against the API's
configured public URL.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from twilio.request_validator import RequestValidator

from overdue.number_refs import number_ref
from overdue.store.sealed_texts import open_text, open_texts
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.support import (
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM,
    Customer,
    add_customer,
    unique_phone,
)
from workflows.names import WORKFLOW_TYPE, workflow_id
from workflows.types import SmsConsentChanged

pytestmark = pytest.mark.integration

STATUS_PATH = "/webhooks/twilio/status"
Handle = WorkflowHandle[Any, Any]
INBOUND_PATH = "/webhooks/twilio/inbound"


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


async def post_signed(
    stack: TwilioStack,
    path: str,
    params: dict[str, str],
    *,
    token: str = TWILIO_AUTH_TOKEN,
    signed_url: str | None = None,
    signed_params: dict[str, str] | None = None,
    signature: str | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> tuple[int, str]:
    url = signed_url or f"{stack.settings.public_url}{path}"
    if signature is None:
        signature = RequestValidator(token).compute_signature(url, signed_params or params)
    headers = {"content-type": content_type}
    if signature:
        headers["X-Twilio-Signature"] = signature
    answer = await stack.api.post(path, data=params, headers=headers)
    return answer.status_code, answer.text


def status_params(sid: str, status: str, error_code: str | None = None) -> dict[str, str]:
    params = {
        "AccountSid": TWILIO_ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": TWILIO_FROM,
        "MessageSid": sid,
        "MessageStatus": status,
        "SmsSid": sid,
        "SmsStatus": status,
        "To": "+8613900000000",
    }
    if error_code:
        params["ErrorCode"] = error_code
    return params


def inbound_params(phone: str, body: str, sid: str | None = None) -> dict[str, str]:
    sid = sid or new_sid()
    return {
        "AccountSid": TWILIO_ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "Body": body,
        "From": phone,
        "MessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "To": TWILIO_FROM,
    }


async def sent_sms_row(
    stack: TwilioStack, *, status: str = "queued", sid: str | None = None
) -> tuple[int, str | None]:
    customer = await add_customer(stack.pool)
    ledger_id = await stack.pool.fetchval(
        """
        INSERT INTO contact_ledger (idempotency_key, account_id, channel, stage_id, status,
                                    provider, provider_id, recipient, body)
        VALUES ($1, $2, 'sms', 'd1_sms', $3, 'twilio', $4, $5, 'Hello') RETURNING id
        """,
        f"{customer.account_id}/e/d1_sms/1",
        customer.account_id,
        status,
        sid,
        customer.phone,
    )
    return ledger_id, sid


async def row_state(stack: TwilioStack, ledger_id: int) -> tuple[str, str | None, str | None]:
    row = await stack.pool.fetchrow(
        "SELECT status, error_code, provider_id FROM contact_ledger WHERE id = $1", ledger_id
    )
    assert row is not None
    return row["status"], row["error_code"], row["provider_id"]


async def status_events(stack: TwilioStack, ledger_id: int) -> list[tuple[str, str]]:
    rows = await stack.pool.fetch(
        "SELECT status, source FROM contact_events WHERE ledger_id = $1 ORDER BY id", ledger_id
    )
    return [(r["status"], r["source"]) for r in rows]


# --- status callbacks ------------------------------------------------------------------


async def test_status_only_moves_forward_and_repeats_are_harmless(
    twilio_stack: TwilioStack,
) -> None:
    ledger_id, sid = await sent_sms_row(twilio_stack, sid=new_sid())
    assert sid is not None

    for status in ("sent", "sent", "delivered", "sending", "sent", "delivered"):
        code, _ = await post_signed(twilio_stack, STATUS_PATH, status_params(sid, status))
        assert code == 204

    assert await row_state(twilio_stack, ledger_id) == ("delivered", None, sid)
    assert await status_events(twilio_stack, ledger_id) == [
        ("queued", "activity"),
        ("sent", "provider_callback"),
        ("delivered", "provider_callback"),
    ]


async def test_out_of_order_failure_records_its_error_code(twilio_stack: TwilioStack) -> None:
    ledger_id, sid = await sent_sms_row(twilio_stack, sid=new_sid())
    assert sid is not None
    for status, error in (("undelivered", "30003"), ("sent", None)):
        code, _ = await post_signed(twilio_stack, STATUS_PATH, status_params(sid, status, error))
        assert code == 204
    assert await row_state(twilio_stack, ledger_id) == ("undelivered", "30003", sid)


async def test_a_callback_before_the_sid_is_recorded_finds_the_row_by_ref(
    twilio_stack: TwilioStack,
) -> None:
    ledger_id, _ = await sent_sms_row(twilio_stack, status="pending")
    sid = new_sid()
    code, _ = await post_signed(
        twilio_stack, f"{STATUS_PATH}?ref={ledger_id}", status_params(sid, "sent")
    )
    assert code == 204
    assert await row_state(twilio_stack, ledger_id) == ("sent", None, sid)
    kinds = await twilio_stack.pool.fetch(
        "SELECT kind, details FROM audit_events WHERE details->>'provider_id' = $1", sid
    )
    assert [k["kind"] for k in kinds] == ["sms.accepted"]


async def test_an_unknown_message_is_acknowledged_and_changes_nothing(
    twilio_stack: TwilioStack,
) -> None:
    code, _ = await post_signed(twilio_stack, STATUS_PATH, status_params(new_sid(), "delivered"))
    assert code == 204


@pytest.mark.parametrize(
    "forgery",
    ["missing", "wrong_token", "other_url", "tampered", "not_a_form", "junk_signature"],
)
async def test_a_bad_signature_is_403_and_changes_nothing(
    twilio_stack: TwilioStack, forgery: str
) -> None:
    ledger_id, sid = await sent_sms_row(twilio_stack, sid=new_sid())
    assert sid is not None
    params = status_params(sid, "delivered")
    forged: dict[str, dict[str, Any]] = {
        "missing": {"signature": ""},
        "wrong_token": {"token": "not-the-token"},
        "other_url": {"signed_url": f"https://elsewhere.example{STATUS_PATH}"},
        "tampered": {"signed_params": status_params(sid, "sent")},
        "not_a_form": {"content_type": "application/json"},
        "junk_signature": {"signature": "bm90IGEgc2lnbmF0dXJl"},
    }
    code, text = await post_signed(twilio_stack, STATUS_PATH, params, **forged[forgery])
    assert code == 403, text
    assert await row_state(twilio_stack, ledger_id) == ("queued", None, sid)
    assert len(await status_events(twilio_stack, ledger_id)) == 1


@pytest.mark.parametrize(
    ("field", "params"),
    [
        ("MessageStatus", {"MessageStatus": "exploded", "SmsStatus": "exploded"}),
        ("MessageSid", {"MessageSid": "not-a-sid"}),
        ("AccountSid", {"AccountSid": "AC" + "0" * 32}),
        ("ErrorCode", {"ErrorCode": "abc"}),
    ],
)
async def test_signed_but_invalid_fields_are_named(
    twilio_stack: TwilioStack, field: str, params: dict[str, str]
) -> None:
    code, text = await post_signed(
        twilio_stack, STATUS_PATH, {**status_params(new_sid(), "sent"), **params}
    )
    assert code == 422, text
    assert f'"field":"{field}"' in text.replace(" ", "")


# --- inbound SMS -----------------------------------------------------------------------


@pytest.fixture
async def open_workflows(twilio_stack: TwilioStack) -> AsyncIterator[list[Handle]]:
    """Processes started on a task queue nobody polls: they stay open and record signals."""
    handles: list[Handle] = []
    yield handles
    for handle in handles:
        try:
            await handle.terminate("test over")
        except Exception:  # noqa: S110  # already closed by the test
            pass


async def start_process(
    stack: TwilioStack,
    customer: Customer,
    handles: list[Handle],
) -> Handle:
    handle = await stack.temporal.start_workflow(
        WORKFLOW_TYPE,
        id=workflow_id(customer.account_id),
        task_queue=f"unpolled-{uuid.uuid4().hex}",
    )
    handles.append(handle)
    return handle


async def consent_signals(stack: TwilioStack, handle: Handle) -> list[bool]:
    history = await handle.fetch_history()
    found = []
    for event in history.events:
        if event.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            continue
        attributes = event.workflow_execution_signaled_event_attributes
        assert attributes.signal_name == "sms_consent_changed"
        [change] = await stack.temporal.data_converter.decode(
            attributes.input.payloads, [SmsConsentChanged]
        )
        assert change.source == "inbound_sms"
        found.append(change.opted_out)
    return found


async def consent_audit(stack: TwilioStack, account_id: str) -> list[bool]:
    rows = await stack.pool.fetch(
        """
        SELECT (details->>'opted_out')::boolean AS opted_out FROM audit_events
         WHERE account_id = $1 AND kind = 'sms.consent_changed' ORDER BY id
        """,
        account_id,
    )
    return [r["opted_out"] for r in rows]


async def opted_out(stack: TwilioStack, phone: str) -> bool | None:
    value: bool | None = await stack.pool.fetchval(
        "SELECT opted_out FROM sms_opt_outs WHERE number_ref = $1", number_ref(phone)
    )
    return value


async def test_stop_then_start_reach_every_account_of_the_number(
    twilio_stack: TwilioStack,
    open_workflows: list[Handle],
) -> None:
    first = await add_customer(twilio_stack.pool)
    second = await add_customer(twilio_stack.pool, phone=first.phone)
    closed = await add_customer(twilio_stack.pool, phone=first.phone)
    first_flow = await start_process(twilio_stack, first, open_workflows)
    second_flow = await start_process(twilio_stack, second, open_workflows)
    await (await start_process(twilio_stack, closed, open_workflows)).terminate("resolved")

    stop = inbound_params(first.phone, " Stop ")
    for _ in range(2):  # Twilio may deliver a webhook twice
        code, twiml = await post_signed(twilio_stack, INBOUND_PATH, stop)
        assert code == 200
        assert twiml.endswith("<Response />")
    assert await opted_out(twilio_stack, first.phone) is True
    for customer in (first, second, closed):
        assert await consent_audit(twilio_stack, customer.account_id) == [True]
    assert (
        await twilio_stack.pool.fetchval(
            "SELECT count(*) FROM inbound_messages WHERE message_sid = $1", stop["MessageSid"]
        )
        == 1
    )

    code, _ = await post_signed(twilio_stack, INBOUND_PATH, inbound_params(first.phone, "start"))
    assert code == 200
    assert await opted_out(twilio_stack, first.phone) is False
    assert await consent_audit(twilio_stack, second.account_id) == [True, False]
    # Repeated deliveries signal again (harmless), so a retry after an outage gets through.
    assert await consent_signals(twilio_stack, first_flow) == [True, True, False]
    assert await consent_signals(twilio_stack, second_flow) == [True, True, False]


@pytest.mark.parametrize("keyword", ["退订", "td", "T", "STOPALL", "opt out", "Unsubscribe."])
async def test_every_opt_out_keyword_opts_out(twilio_stack: TwilioStack, keyword: str) -> None:
    customer = await add_customer(twilio_stack.pool)
    code, _ = await post_signed(twilio_stack, INBOUND_PATH, inbound_params(customer.phone, keyword))
    assert code == 200
    assert await opted_out(twilio_stack, customer.phone) is True


async def test_stop_from_an_unknown_number_is_still_honoured(twilio_stack: TwilioStack) -> None:
    phone = unique_phone()
    params = inbound_params(phone, "QUIT")
    code, _ = await post_signed(twilio_stack, INBOUND_PATH, params)
    assert code == 200
    assert await opted_out(twilio_stack, phone) is True
    assert (
        await twilio_stack.pool.fetchval(
            """
        SELECT count(*) FROM audit_events
         WHERE account_id IS NULL AND kind = 'sms.consent_changed'
           AND details->>'message_sid' = $1
        """,
            params["MessageSid"],
        )
        == 1
    )


@pytest.mark.parametrize(
    ("locale", "expected"), [("zh-CN", "回复TD退订"), ("en", "Reply STOP to opt out")]
)
async def test_help_is_answered_with_twiml_in_the_customers_language(
    twilio_stack: TwilioStack, locale: str, expected: str
) -> None:
    customer = await add_customer(twilio_stack.pool, locale=locale)
    code, twiml = await post_signed(
        twilio_stack, INBOUND_PATH, inbound_params(customer.phone, "help")
    )
    assert code == 200
    assert "<Response><Message>" in twiml and expected in twiml
    assert await opted_out(twilio_stack, customer.phone) is None


async def test_a_free_text_reply_becomes_one_agent_task_per_account(
    twilio_stack: TwilioStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first = await add_customer(twilio_stack.pool)
    second = await add_customer(twilio_stack.pool, phone=first.phone)
    text = "I lost my job, can I pay on the 15th? Zhou"
    params = inbound_params(first.phone, text)

    for _ in range(2):
        code, twiml = await post_signed(twilio_stack, INBOUND_PATH, params)
        assert code == 200 and twiml.endswith("<Response />")

    tasks = await twilio_stack.pool.fetch(
        """
        SELECT t.account_id, t.queue, t.stage_id, t.priority, t.status, m.body
          FROM call_tasks t JOIN inbound_messages m ON m.id = t.inbound_message_id
         WHERE m.message_sid = $1 ORDER BY t.account_id
        """,
        params["MessageSid"],
    )
    bodies = await open_texts(twilio_stack.pool, (t["body"] for t in tasks))
    assert [(*tuple(t)[:-1], b) for t, b in zip(tasks, bodies, strict=True)] == sorted(
        (c.account_id, "general", "inbound_reply", 60, "open", text) for c in (first, second)
    )
    assert await opted_out(twilio_stack, first.phone) is None
    assert text not in caplog.text
    assert first.phone not in caplog.text


async def test_a_reply_with_control_characters_is_kept_not_refused(
    twilio_stack: TwilioStack,
) -> None:
    """A customer's words are never lost: a NUL (which Postgres cannot store) or an escape
    becomes U+FFFD, line breaks stay, and the reply still reaches an agent."""
    customer = await add_customer(twilio_stack.pool)
    params = inbound_params(customer.phone, "pay\x00 later\x1b[31m\nthanks")
    code, twiml = await post_signed(twilio_stack, INBOUND_PATH, params)
    assert code == 200 and twiml.endswith("<Response />")
    body = await twilio_stack.pool.fetchval(
        "SELECT body FROM inbound_messages WHERE message_sid = $1", params["MessageSid"]
    )
    assert await open_text(twilio_stack.pool, body) == "pay\ufffd later\ufffd[31m\nthanks"


async def test_an_unsigned_inbound_message_is_403_and_stores_nothing(
    twilio_stack: TwilioStack,
) -> None:
    customer = await add_customer(twilio_stack.pool)
    params = inbound_params(customer.phone, "STOP")
    code, _ = await post_signed(twilio_stack, INBOUND_PATH, params, token="guessed")
    assert code == 403
    assert await opted_out(twilio_stack, customer.phone) is None
    assert not await twilio_stack.pool.fetchval(
        "SELECT count(*) FROM inbound_messages WHERE message_sid = $1", params["MessageSid"]
    )

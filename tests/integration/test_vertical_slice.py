"""One account's journey through the real stack, driven through the HTTP API only."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from overdue.store.sealed_texts import open_text
from tests.integration import support
from tests.integration.conftest import Stack
from tests.integration.support import decoded_history, eventually, new_account
from workflows import search_attributes as sa
from workflows.names import workflow_id
from workflows.overdue_account import OverdueAccountWorkflow

pytestmark = pytest.mark.integration

NAME = "Zhang Wei"
PHONE = "+8613800138000"


def overdue_body(**changes: Any) -> dict[str, Any]:
    """This module's customer and amount on the shared request body."""
    return support.overdue_body(
        **{
            "customer": {
                "name": NAME,
                "phone": PHONE,
                "time_zone": support.CUSTOMER_ZONE,
                "locale": "en",
            },
            "amount_due": {"amount_minor": 123_456, "currency": "CNY"},
            **changes,
        }
    )


async def test_start_sms_call_task_pay_resolved(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    account = new_account()

    started = await stack.api.put(f"/v1/accounts/{account}/overdue", json=overdue_body())
    assert started.status_code == 201, started.text
    assert started.json()["workflow_id"] == workflow_id(account)
    again = await stack.api.put(f"/v1/accounts/{account}/overdue", json=overdue_body())
    assert again.status_code == 200, again.text
    assert again.json()["run_id"] == started.json()["run_id"]
    assert again.json()["created"] is False

    sms = await eventually(
        lambda: stack.pool.fetchrow(
            # The row is written 'pending' before the sender is called: wait for the outcome.
            "SELECT * FROM contact_ledger WHERE account_id = $1 AND channel = 'sms' "
            "AND status <> 'pending'",
            account,
        )
    )
    assert sms["status"] == "sent"
    assert sms["stage_id"] == "t1s_sms"
    assert not sms["body"].startswith("Hello")  # sealed at rest (overdue/store/sealed_texts.py)
    sent_body = await open_text(stack.pool, sms["body"])
    assert sent_body is not None and sent_body.startswith(f"Hello {NAME}, 1234.56 CNY was due on ")
    recorded = [
        m for m, _ in stack.sender.sent.values() if m.idempotency_key == sms["idempotency_key"]
    ]
    assert [m.to for m in recorded] == [PHONE]

    task = await eventually(
        lambda: stack.pool.fetchrow("SELECT * FROM call_tasks WHERE account_id = $1", account)
    )
    assert (task["queue"], task["status"], task["priority"]) == ("general", "open", 50)

    status = await stack.api.get(f"/v1/accounts/{account}")
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["state"] == "active"
    assert body["stage"] == "t3s_call"
    assert body["balance_minor"] == 123_456
    assert body["days_past_due"] == 2
    assert (body["policy_id"], body["policy_version"]) == ("fast", 1)

    paid = await stack.api.post(
        f"/v1/accounts/{account}/payments",
        json={
            "payment_id": "pay-1",
            "amount_minor": 123_456,
            "currency": "CNY",
            "paid_at": datetime.now(UTC).isoformat(),
        },
    )
    assert paid.status_code == 202, paid.text

    handle = stack.temporal.get_workflow_handle_for(
        OverdueAccountWorkflow.run, workflow_id(account)
    )
    outcome = await asyncio.wait_for(handle.result(), timeout=30)
    assert outcome.state.value == "resolved"
    assert outcome.balance_minor == 0
    cancelled = await stack.pool.fetchval(
        "SELECT status FROM call_tasks WHERE account_id = $1", account
    )
    assert cancelled == "cancelled"

    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED
    assert description.typed_search_attributes.get(sa.OVERDUE_STATE) == "resolved"
    assert description.typed_search_attributes.get(sa.AMOUNT_DUE_MINOR) == 0
    assert description.typed_search_attributes.get(sa.NEXT_ACTION_AT) is None
    resolved = await stack.api.get(f"/v1/accounts/{account}")
    assert resolved.json()["state"] == "resolved"

    # Exactly one message despite the repeated PUT; nothing after resolution.
    await asyncio.sleep(1)
    ledger = await stack.api.get(f"/v1/accounts/{account}/contacts")
    assert ledger.status_code == 200, ledger.text
    assert [(c["channel"], c["stage_id"], c["status"]) for c in ledger.json()["contacts"]] == [
        ("call_task", "t3s_call", "task_created"),
        ("sms", "t1s_sms", "sent"),
    ]

    # Personal data stays in Postgres: not in the workflow's history, not in any log line.
    history = await decoded_history(stack, account)
    for secret in (NAME, PHONE, PHONE.lstrip("+")):
        assert secret not in history
        assert not [r.getMessage() for r in caplog.records if secret in r.getMessage()]
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"customer": {"name": NAME, "phone": "13800138000", "time_zone": "Asia/Shanghai"}},
            "customer.phone",
        ),
        (
            {"customer": {"name": NAME, "phone": "+861", "time_zone": "Asia/Shanghai"}},
            "customer.phone",
        ),
        (
            {"customer": {"name": NAME, "phone": PHONE, "time_zone": "Mars/Olympus"}},
            "customer.time_zone",
        ),
        ({"amount_due": {"amount_minor": -5, "currency": "CNY"}}, "amount_due.amount_minor"),
        ({"amount_due": {"amount_minor": 10, "currency": "RMB"}}, "amount_due.currency"),
        ({"amount_due": {"amount_minor": 1.5, "currency": "CNY"}}, "amount_due.amount_minor"),
        ({"due_date": "yesterday"}, "due_date"),
        ({"product": ""}, "product"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_bad_overdue_report_names_the_field_and_changes_nothing(
    stack: Stack, change: dict[str, Any], field: str
) -> None:
    account = new_account()
    answer = await stack.api.put(f"/v1/accounts/{account}/overdue", json=overdue_body(**change))

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in answer.json()["errors"]], answer.json()
    assert (
        await stack.pool.fetchval(
            "SELECT count(*) FROM customer_contacts WHERE account_id = $1", account
        )
        == 0
    )
    with pytest.raises(RPCError) as missing:
        await stack.temporal.get_workflow_handle(workflow_id(account)).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND


async def test_bad_account_id_is_rejected(stack: Stack) -> None:
    answer = await stack.api.put("/v1/accounts/has%20space/overdue", json=overdue_body())
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "account_id"


async def test_unknown_account_is_404_with_a_clear_message(stack: Stack) -> None:
    answer = await stack.api.get("/v1/accounts/never-seen")
    assert answer.status_code == 404
    assert "no overdue process for account 'never-seen'" in answer.json()["detail"]
    assert (await stack.api.get("/v1/accounts/never-seen/contacts")).status_code == 404
    payment = await stack.api.post(
        "/v1/accounts/never-seen/payments",
        json={
            "payment_id": "p",
            "amount_minor": 1,
            "currency": "CNY",
            "paid_at": "2026-11-20T10:00:00Z",
        },
    )
    assert payment.status_code == 404


async def test_payment_in_another_currency_is_rejected(stack: Stack) -> None:
    account = new_account()
    assert (
        await stack.api.put(f"/v1/accounts/{account}/overdue", json=overdue_body())
    ).status_code == 201
    answer = await stack.api.post(
        f"/v1/accounts/{account}/payments",
        json={
            "payment_id": "p",
            "amount_minor": 1,
            "currency": "USD",
            "paid_at": "2026-11-20T10:00:00Z",
        },
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "currency"
    status = (await stack.api.get(f"/v1/accounts/{account}")).json()
    assert status["balance_minor"] == 123_456
    await stack.temporal.get_workflow_handle(workflow_id(account)).terminate("test over")


async def test_readiness_reports_both_dependencies(stack: Stack) -> None:
    answer = await stack.api.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"postgres": "ok", "temporal": "ok"}

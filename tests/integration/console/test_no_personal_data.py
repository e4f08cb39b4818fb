"""Personal data stays in Postgres (issue 13): a made-up name and phone number typed into every
free-text field and every path parameter of the API, the console and the ops commands is found
in no workflow history (payloads decoded), no search attribute, no batch job and no log line;
the texts are read back from Postgres where people are shown them. And a payment signalled
straight to a workflow, without the API, still gets its audit row."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf.message import Message
from temporalio.api.workflowservice.v1 import DescribeBatchOperationRequest

from overdue.logs import build_handler
from overdue.store.sealed_texts import open_texts
from tests.integration.conftest import Stack
from tests.integration.console.conftest import User, csrf_of, logged_in, only_specialist_task
from tests.integration.ops.support import ops
from tests.integration.support import client, eventually, overdue_body, start_account
from workflows.event_audit import DIRECT_ACTOR
from workflows.names import workflow_id
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import PaymentReported

NAME = "Fzzname Uniqueperson"
PHONE = "+8613912346001"
NATIONAL = PHONE.removeprefix("+86")  # the number however it is formatted
TYPED = f"call {NAME} on {PHONE}"
FORGED = "/v1/accounts/x%0aPOST%20%2Fv1%2Faccounts%2Fa%2Fpayments%20-%3E%20202"


def _customer() -> dict[str, Any]:
    body = overdue_body()
    return {**body["customer"], "name": NAME, "phone": PHONE}


@dataclass
class Captured:
    text: io.StringIO
    json: io.StringIO

    def lines(self) -> str:
        return self.text.getvalue() + self.json.getvalue()


@pytest.fixture
def captured_logs(stack: Stack) -> Iterator[Captured]:
    """Every log line the stack (API, worker, activities: all in this process) writes; not
    the lines of this test's own HTTP client (httpx logs each URL it requests)."""
    captured = Captured(io.StringIO(), io.StringIO())
    handlers = [build_handler("text", captured.text), build_handler("json", captured.json)]
    ours = stack.settings.api_url.rstrip("/")
    for handler in handlers:
        handler.addFilter(lambda r: not (r.name == "httpx" and ours in r.getMessage()))
    root = logging.getLogger()
    level = root.level
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield captured
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        root.setLevel(level)


def _strings(message: Message) -> Iterator[str]:
    """Every string and byte string in a protobuf message, payloads' data decoded."""
    for field, value in message.ListFields():
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            items = [*value.keys(), *value.values()]
        elif isinstance(value, Message | str | bytes | int | float):
            items = [value]
        else:  # a repeated field
            items = list(value)
        for item in items:
            if isinstance(item, Message):
                yield from _strings(item)
            elif isinstance(item, bytes):
                yield item.decode("utf-8", errors="replace")
            elif isinstance(item, str):
                yield item


def _assert_clean(where: str, texts: Iterator[str] | list[str]) -> None:
    for text in texts:
        for secret in (NAME, NATIONAL, "Fzzname", "Uniqueperson"):
            assert secret not in text, f"{secret!r} found in {where}: {text[:300]!r}"


async def _assert_temporal_clean(stack: Stack, account: str) -> None:
    handle = stack.temporal.get_workflow_handle(workflow_id(account))
    history = await handle.fetch_history()
    strings = [s for e in history.events for s in _strings(e)]
    assert any('"amount_due_minor"' in s for s in strings)  # payloads are read, decoded
    _assert_clean(f"the history of {account}", strings)
    described = list(_strings((await handle.describe()).raw_description))
    assert "OverdueState" in described  # the search attributes are read
    _assert_clean(f"the search attributes of {account}", described)


async def _agent_task(stack: Stack) -> tuple[str, int]:
    """The made-up customer's specialist call task, the only open one in that queue."""
    return await only_specialist_task(stack, customer=_customer())


async def _agent_types_everywhere(stack: Stack, agent: User, task_id: int) -> None:
    async with logged_in(stack, agent) as browser:
        token = csrf_of(await browser.get("/console"))
        await browser.post("/console/tasks/next", data={"csrf_token": token})
        outcome = f"/console/tasks/{task_id}/outcome"
        for form in (
            {"action": "call", "outcome": "no_answer", "note": TYPED},
            {"action": "hardship", "reason": TYPED},
        ):
            answer = await browser.post(outcome, data={"csrf_token": token, **form})
            assert answer.status_code == 200, (form, answer.text)
        page = await browser.get(f"/console/tasks/{task_id}")
        assert TYPED in page.text  # the note, read back from Postgres for the agent
        for path in (f"/console/tasks/{PHONE}", f"/console/accounts/{PHONE}", FORGED):
            assert (await browser.get(path)).status_code >= 400


async def _supervisor_types_everywhere(stack: Stack, supervisor: User, account: str) -> None:
    async with logged_in(stack, supervisor) as browser:
        page = await browser.get(f"/console/accounts/{account}")
        actions = f"/console/accounts/{account}/actions"
        token = csrf_of(page)
        decided = await browser.post(
            actions,
            data={"csrf_token": token, "action": "hardship_decision", "decision": "reject",
                  "reason": TYPED},
        )  # fmt: skip
        assert decided.status_code == 200, decided.text
        paused = await browser.post(
            actions, data={"csrf_token": token, "action": "pause", "reason": TYPED}
        )
        assert paused.status_code == 200 and 'data-state="paused"' in paused.text
        assert TYPED in paused.text  # why it is paused, read back from Postgres
        api_status = (await stack.api.get(f"/v1/accounts/{account}")).json()
        assert api_status["pause"]["reason"] == TYPED
        resumed = await browser.post(
            actions, data={"csrf_token": token, "action": "resume", "reason": TYPED}
        )
        assert resumed.status_code == 200, resumed.text


async def _agent_escalates_and_disputes(stack: Stack, agent: User, task_id: int) -> None:
    async with logged_in(stack, agent) as browser:
        token = csrf_of(await browser.get(f"/console/tasks/{task_id}"))
        outcome = f"/console/tasks/{task_id}/outcome"
        for form in (
            {"action": "escalate", "reason": TYPED},
            {"action": "dispute", "reason": TYPED},
        ):
            answer = await browser.post(outcome, data={"csrf_token": token, **form})
            assert answer.status_code == 200, (form, answer.text)


async def _backend_types_everywhere(stack: Stack) -> str:
    account = await start_account(stack, customer=_customer())
    base = f"/v1/accounts/{account}"
    for path, body in (
        ("/hardship", {"report_id": "h-1", "reason": TYPED}),
        ("/disputes", {"dispute_id": "d-1", "reason": TYPED}),
        ("/disputes/d-1/close", {"resolution": TYPED}),
        ("/cease-contact", {"request_id": "c-1", "reason": TYPED}),
    ):
        answer = await stack.api.post(base + path, json=body)
        assert answer.status_code == 202, (path, answer.text)
    refused = [
        stack.api.get(f"/v1/accounts/{PHONE}"),
        stack.api.get(f"/v1/accounts/{NAME}/timeline"),
        stack.api.post(f"{base}/disputes/{PHONE}/close", json={"resolution": "x"}),
        stack.api.get(FORGED),
    ]
    for request in refused:
        assert (await request).status_code >= 400
    async with client(stack) as anonymous:  # refused before any route runs its code
        assert (await anonymous.get(f"/v1/accounts/{PHONE}")).status_code == 401
        assert (await anonymous.get(f"/v1/{NAME}/{PHONE}")).status_code in (401, 404)
    timeline = (await stack.api.get(f"{base}/timeline")).json()
    shown = [e["details"].get("text") for e in timeline["entries"]]
    assert shown.count(TYPED) == 4  # each read back from Postgres
    return account


async def _ops_types_everywhere(stack: Stack) -> tuple[str, list[str]]:
    product = f"privacy_{uuid.uuid4().hex[:8]}"
    account = await start_account(stack, product=product, customer=_customer())
    query = f"Product = '{product}'"

    async def visible() -> bool:
        ran = await ops(stack.settings, "pause", "--query", query, "--reason", "x", "--dry-run")
        return "1 running account matches" in ran.out

    await eventually(visible)
    jobs = []
    for action in ("pause", "resume"):
        ran = await ops(stack.settings, action, "--query", query, "--reason", TYPED, "--yes")
        assert ran.code == 0, ran.err
        jobs.append(ran.out.split("batch job ")[1].split(",")[0])
    return account, jobs


async def test_typed_personal_data_reaches_no_history_attribute_or_log_line(
    stack: Stack, agent: User, supervisor: User, captured_logs: Captured
) -> None:
    console_account, task_id = await _agent_task(stack)
    await _agent_types_everywhere(stack, agent, task_id)
    await _supervisor_types_everywhere(stack, supervisor, console_account)
    await _agent_escalates_and_disputes(stack, agent, task_id)
    backend_account = await _backend_types_everywhere(stack)
    ops_account, jobs = await _ops_types_everywhere(stack)

    stored = await stack.pool.fetch(
        "SELECT text FROM free_texts WHERE account_id = ANY($1::text[])",
        [console_account, backend_account],
    )
    kept = (await open_texts(stack.pool, (r["text"] for r in stored))).count(TYPED)
    assert kept == 7 + 4  # console: note, hardship, decision, pause, resume, escalate, dispute
    for account in (console_account, backend_account, ops_account):
        await _assert_temporal_clean(stack, account)
    for job in jobs:
        described = await stack.temporal.workflow_service.describe_batch_operation(
            DescribeBatchOperationRequest(namespace=stack.temporal.namespace, job_id=job)
        )
        _assert_clean(f"batch job {job}", list(_strings(described)))
    lines = captured_logs.lines()
    assert "/v1/accounts/{account_id}" in lines  # the access log was captured
    _assert_clean("the log lines", lines.splitlines())
    assert "\nPOST /v1/accounts/a/payments" not in lines  # no forged line


async def test_a_payment_signalled_without_the_api_is_audited(stack: Stack) -> None:
    account = await start_account(stack)
    through_api = await stack.api.post(
        f"/v1/accounts/{account}/payments",
        json={"payment_id": "api-1", "amount_minor": 1_000, "currency": "CNY",
              "paid_at": datetime.now(UTC).isoformat()},
    )  # fmt: skip
    assert through_api.status_code == 202, through_api.text
    handle = stack.temporal.get_workflow_handle(workflow_id(account))
    direct = PaymentReported(
        payment_id="direct-1", amount_minor=2_000, currency="CNY", paid_at=datetime.now(UTC)
    )
    await handle.signal(OverdueAccountWorkflow.report_payment, direct)

    async def audited() -> list[Any]:
        rows = await stack.pool.fetch(
            """
            SELECT actor, details ->> 'payment_id' AS payment_id FROM audit_events
             WHERE account_id = $1 AND kind = 'payment.reported' ORDER BY id
            """,
            account,
        )
        return rows if len(rows) >= 2 else []

    rows = await eventually(audited)
    assert [(r["actor"], r["payment_id"]) for r in rows][1] == (DIRECT_ACTOR, "direct-1")
    assert [r["payment_id"] for r in rows] == ["api-1", "direct-1"]  # the API's not twice
    assert rows[0]["actor"] != DIRECT_ACTOR
    recorded = await stack.pool.fetchval(
        "SELECT count(*) FROM reported_events WHERE account_id = $1 AND kind = 'payment.reported'",
        account,
    )
    assert recorded == 2  # the pre-send check sees the direct payment too
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.balance_minor == 50_000 - 3_000

"""Bills, hardship, disputes, cease contact: signals to the process, each once in the audit."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Stack
from tests.integration.support import (
    assert_problem,
    eventually,
    overdue_body,
    start_account,
    state_of,
)
from workflows.names import workflow_id

pytestmark = pytest.mark.integration


async def _audit_count(stack: Stack, account: str, kind: str) -> int:
    count: int = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE account_id = $1 AND kind = $2", account, kind
    )
    return count


async def _balance(stack: Stack, account: str) -> int:
    balance: int = (await stack.api.get(f"/v1/accounts/{account}")).json()["balance_minor"]
    return balance


async def test_a_new_bill_adds_to_the_running_process_once(stack: Stack) -> None:
    account = await start_account(stack)
    url = f"/v1/accounts/{account}/overdue"
    replay = await stack.api.put(url, json=overdue_body())
    assert replay.status_code == 200
    assert (replay.json()["created"], replay.json()["bill_added"]) == (False, False)

    second = overdue_body(bill_id="BILL-2", amount_due={"amount_minor": 7_000, "currency": "CNY"})
    for expected_added in (True, False):  # the second time it is a replay
        answer = await stack.api.put(url, json=second)
        assert answer.status_code == 200, answer.text
        assert answer.json()["bill_added"] is expected_added
        assert answer.json()["bill_id"] == "BILL-2"
    assert await eventually(lambda: _is(stack, account, 57_000))
    assert await _audit_count(stack, account, "bill.added") == 1

    other_currency = overdue_body(amount_due={"amount_minor": 100, "currency": "USD"})
    refused = assert_problem(await stack.api.put(url, json=other_currency), 422)
    assert refused["errors"][0]["field"] == "amount_due.currency"
    assert await _balance(stack, account) == 57_000


async def _is(stack: Stack, account: str, balance: int) -> bool:
    return await _balance(stack, account) == balance


async def test_hardship_then_dispute_then_cease_contact(stack: Stack) -> None:
    account = await start_account(stack)
    base = f"/v1/accounts/{account}"
    hardship = {"report_id": "HR-1", "reason": "job_loss"}
    for _ in range(2):
        answer = await stack.api.post(f"{base}/hardship", json=hardship)
        assert answer.status_code == 202, answer.text
        assert answer.json() == {
            "account_id": account,
            "event": "hardship",
            "event_id": "HR-1",
            "status": "accepted",
        }
    assert await eventually(lambda: _state_is(stack, account, "hardship_review"))
    assert await _audit_count(stack, account, "hardship.reported") == 1

    opened = await stack.api.post(
        f"{base}/disputes", json={"dispute_id": "D-1", "reason": "amount"}
    )
    assert opened.status_code == 202, opened.text
    assert await eventually(lambda: _state_is(stack, account, "disputed"))
    closed = await stack.api.post(f"{base}/disputes/D-1/close", json={"resolution": "upheld"})
    assert closed.status_code == 202, closed.text
    assert await eventually(lambda: _state_is(stack, account, "hardship_review"))

    ceased = await stack.api.post(
        f"{base}/cease-contact", json={"request_id": "C-1", "reason": "customer_request"}
    )
    assert ceased.status_code == 202, ceased.text
    assert await eventually(lambda: _json_field(stack, account, "contact_ceased"))
    kinds = await stack.pool.fetch(
        "SELECT kind, actor FROM audit_events WHERE account_id = $1 ORDER BY id", account
    )
    by_kind = {k["kind"]: k["actor"] for k in kinds}
    for kind in ("dispute.opened", "dispute.closed", "contact.ceased"):
        assert by_kind[kind].startswith("api:tests-")  # the key's name is the actor


async def _state_is(stack: Stack, account: str, state: str) -> bool:
    return await state_of(stack, account) == state


async def _json_field(stack: Stack, account: str, field: str) -> bool:
    return bool((await stack.api.get(f"/v1/accounts/{account}")).json()[field])


async def test_events_for_unknown_or_finished_accounts(stack: Stack) -> None:
    unknown = await stack.api.post(
        "/v1/accounts/never-seen/hardship", json={"report_id": "x", "reason": "r"}
    )
    assert_problem(unknown, 404)
    account = await start_account(stack)
    await stack.temporal.get_workflow_handle(workflow_id(account)).terminate("test over")
    finished = await stack.api.post(
        f"/v1/accounts/{account}/disputes", json={"dispute_id": "D-9", "reason": "r"}
    )
    assert_problem(finished, 409)
    assert await _audit_count(stack, account, "dispute.opened") == 0  # refused: no trace


async def test_bad_event_bodies_name_the_field(stack: Stack) -> None:
    account = await start_account(stack)
    answer = await stack.api.post(
        f"/v1/accounts/{account}/disputes", json={"dispute_id": "has space", "reason": ""}
    )
    body = assert_problem(answer, 422)
    assert {e["field"] for e in body["errors"]} == {"dispute_id", "reason"}
    await stack.temporal.get_workflow_handle(workflow_id(account)).terminate("test over")

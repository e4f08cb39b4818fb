"""Forbearance and itemizations through the backend API, on the real stack: the start request's
itemization is checked (a sum that does not add up is refused, nothing stored) and shown in the
status; an agent's decision outside the policy's limits is refused with the workflow's reason
and changes nothing; a borrower's request is recorded once and asks a specialist's review."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.integration.conftest import Stack
from tests.integration.support import (
    assert_problem,
    customer_today,
    eventually,
    new_account,
    overdue_body,
    start_account,
)

pytestmark = pytest.mark.integration
ITEMS = {
    "principal_minor": 45_000,
    "interest_minor": 3_000,
    "fees": [{"kind": "late_fee", "amount_minor": 2_500}],
    "payments_minor": 500,
}


async def _count(stack: Stack, sql: str, *args: Any) -> int:
    count: int = await stack.pool.fetchval(sql, *args)
    return count


async def test_the_start_request_itemization_is_checked_and_shown(stack: Stack) -> None:
    account = new_account()
    url = f"/v1/accounts/{account}/overdue"
    wrong = {**ITEMS, "principal_minor": 40_000}
    refused = await stack.api.put(url, json=overdue_body(itemization=wrong))
    assert_problem(refused, 422)
    assert "itemization adds up to 45000" in refused.text and "amount due is 50000" in refused.text
    assert (await stack.api.get(f"/v1/accounts/{account}")).status_code == 404  # nothing stored
    negative = {**ITEMS, "fees": [{"kind": "late_fee", "amount_minor": -1}]}
    assert_problem(await stack.api.put(url, json=overdue_body(itemization=negative)), 422)

    answer = await stack.api.put(url, json=overdue_body(itemization=ITEMS))
    assert answer.status_code == 201, answer.text
    status = (await stack.api.get(f"/v1/accounts/{account}")).json()
    assert status["itemization"]["itemization"]["fees"] == ITEMS["fees"]
    assert status["itemization"]["amount_minor"] == 50_000


async def test_a_decision_outside_the_limits_is_refused_and_changes_nothing(stack: Stack) -> None:
    account = await start_account(stack)
    url = f"/v1/accounts/{account}/forbearance"
    today = customer_today()
    low = {"kind": "settlement", "amount_minor": 10_000, "pay_by": str(today + timedelta(days=5))}
    refused = await stack.api.post(url, json=low)
    assert_problem(refused, 409)
    assert "at least 60% of the balance (30000)" in refused.text
    malformed = await stack.api.post(url, json={"kind": "holiday"})
    assert_problem(malformed, 422)
    assert "needs until" in malformed.text
    status = (await stack.api.get(f"/v1/accounts/{account}")).json()
    assert status["forbearance"] is None
    audited = (
        "SELECT count(*) FROM audit_events WHERE account_id = $1 AND kind LIKE 'forbearance.%'"
    )
    assert await _count(stack, audited, account) == 0

    holiday = {"kind": "holiday", "until": str(today + timedelta(days=7)), "note": "job loss"}
    granted = await stack.api.post(url, json=holiday)
    assert granted.status_code == 200, granted.text
    assert granted.json()["forbearance"]["holiday"]["until"] == holiday["until"]
    assert await _count(stack, audited, account) == 1


async def test_a_borrower_request_is_recorded_once_and_reviewed(stack: Stack) -> None:
    account = await start_account(stack)
    url = f"/v1/accounts/{account}/forbearance-requests"
    body = {"request_id": "fr-1", "kind": "freeze", "reason": "hospital stay"}
    for _ in range(2):  # a retry: recorded and reviewed once
        answer = await stack.api.post(url, json=body)
        assert answer.status_code == 202, answer.text
    tasks = (
        "SELECT count(*) FROM call_tasks WHERE account_id = $1 AND queue = 'specialist' "
        "AND stage_id LIKE 'forbearance_review_%'"
    )

    async def reviewed() -> bool:
        return await _count(stack, tasks, account) == 1

    await eventually(reviewed)
    recorded = "SELECT count(*) FROM reported_events WHERE account_id = $1 AND kind = $2"
    assert await _count(stack, recorded, account, "forbearance.requested") == 1
    status = (await stack.api.get(f"/v1/accounts/{account}")).json()
    assert [p["request_id"] for p in status["forbearance"]["pending"]] == ["fr-1"]
    bad = await stack.api.post(url, json={**body, "request_id": "fr-2", "amount_minor": 5})
    assert_problem(bad, 422)
    assert "not a freeze" in bad.text

"""Bounds at the API's boundary (overdue/inputs.py, docs/api.md "Bounds"): each refused request
answers 422 naming the field, at once, and changes nothing. The fuzzer's former 500s are in
test_known_500s.py; these are the other cases issue 13 names."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from overdue.inputs import MAX_MINOR
from tests.integration.api.test_known_500s import _state, _unknown, assert_invalid
from tests.integration.conftest import Stack
from tests.integration.support import (
    customer_today,
    eventually,
    new_account,
    overdue_body,
    start_account,
)

pytestmark = pytest.mark.integration


def _payment(**changes: Any) -> dict[str, Any]:
    body = {"payment_id": "P-1", "amount_minor": 1_000, "currency": "CNY"}
    body["paid_at"] = f"{customer_today().isoformat()}T00:00:00Z"
    return {**body, **changes}


@pytest.mark.parametrize("amount", [100000.0, "100000", 1e5, True])
async def test_lax_amounts_are_refused_on_put_and_on_payments(stack: Stack, amount: Any) -> None:
    account_id = new_account()
    body = overdue_body(amount_due={"amount_minor": amount, "currency": "CNY"})
    answer = await stack.api.put(f"/v1/accounts/{account_id}/overdue", json=body)
    assert_invalid(answer, "amount_due.amount_minor")
    assert await _unknown(stack, account_id)

    running = await start_account(stack)
    before = await _state(stack, running)
    answer = await stack.api.post(
        f"/v1/accounts/{running}/payments", json=_payment(amount_minor=amount)
    )
    assert_invalid(answer, "amount_minor")
    assert await _state(stack, running) == before


@pytest.mark.parametrize(
    "zone", ["localtime", "posixrules", "Factory", "right/UTC", "posix/Asia/Shanghai", "Mars/Base"]
)
async def test_only_canonical_iana_zones_are_accepted(stack: Stack, zone: str) -> None:
    account_id = new_account()
    body = overdue_body(customer={**overdue_body()["customer"], "time_zone": zone})
    answer = await stack.api.put(f"/v1/accounts/{account_id}/overdue", json=body)
    assert_invalid(answer, "customer.time_zone")
    assert await _unknown(stack, account_id)


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Li\x1fNa"), ("name", "Li\x85Na"), ("phone", "+8613912345678\x00")],
)
async def test_control_characters_are_refused_in_any_string(
    stack: Stack, field: str, value: str
) -> None:
    account_id = new_account()
    body = overdue_body(customer={**overdue_body()["customer"], field: value})
    answer = await stack.api.put(f"/v1/accounts/{account_id}/overdue", json=body)
    assert_invalid(answer, f"customer.{field}")
    assert await _unknown(stack, account_id)


@pytest.mark.parametrize("days", [-3654, 367])
async def test_a_due_date_outside_the_window_is_refused(stack: Stack, days: int) -> None:
    account_id = new_account()
    due = customer_today() + timedelta(days=days)
    answer = await stack.api.put(
        f"/v1/accounts/{account_id}/overdue", json=overdue_body(due_date=due.isoformat())
    )
    assert_invalid(answer, "due_date")
    assert await _unknown(stack, account_id)


@pytest.mark.parametrize(
    "paid_at", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2000-01-01T00:00:00Z"]
)
async def test_a_paid_at_outside_the_window_is_refused(stack: Stack, paid_at: str) -> None:
    account = await start_account(stack)
    before = await _state(stack, account)
    answer = await stack.api.post(
        f"/v1/accounts/{account}/payments", json=_payment(paid_at=paid_at)
    )
    assert_invalid(answer, "paid_at")
    assert await _state(stack, account) == before


async def test_a_bill_that_takes_the_total_past_2_53_is_refused(stack: Stack) -> None:
    half = (MAX_MINOR + 1) // 2
    account = await start_account(stack, amount_due={"amount_minor": half, "currency": "CNY"})
    url = f"/v1/accounts/{account}/overdue"
    # Reported again, the same bill is not counted twice.
    again = await stack.api.put(
        url, json=overdue_body(amount_due={"amount_minor": half, "currency": "CNY"})
    )
    assert again.status_code == 200, again.text
    before = await _state(stack, account)

    second = overdue_body(amount_due={"amount_minor": half, "currency": "CNY"}, bill_id="B-2")
    assert_invalid(await stack.api.put(url, json=second), "amount_due.amount_minor")
    assert await _state(stack, account) == before
    bills = await stack.pool.fetchval(
        "SELECT count(*) FROM account_bills WHERE account_id = $1", account
    )
    assert bills == 1

    fits = overdue_body(amount_due={"amount_minor": half - 1, "currency": "CNY"}, bill_id="B-3")
    added = await stack.api.put(url, json=fits)
    assert added.status_code == 200 and added.json()["bill_added"], added.text

    async def summed() -> bool:
        return (await stack.api.get(f"/v1/accounts/{account}")).json()["balance_minor"] == MAX_MINOR

    await eventually(summed)
    paid = await stack.api.post(
        f"/v1/accounts/{account}/payments", json=_payment(amount_minor=MAX_MINOR)
    )
    assert paid.status_code == 202, paid.text
    assert await eventually(
        lambda: _resolved(stack, account)
    )  # the payment is applied: nothing wedged


async def _resolved(stack: Stack, account: str) -> bool:
    answer = await stack.api.get(f"/v1/accounts/{account}")
    return answer.status_code == 200 and answer.json()["state"] == "resolved"


async def test_a_list_cursor_for_another_filter_is_refused_at_once(stack: Stack) -> None:
    await start_account(stack)
    await start_account(stack)

    async def cursor() -> str | None:
        page = await stack.api.get("/v1/accounts", params={"page_size": 1})
        value: str | None = page.json()["next_cursor"]
        return value

    issued = await eventually(cursor)
    began = time.monotonic()
    other = await stack.api.get(
        "/v1/accounts", params={"page_size": 1, "cursor": issued, "state": "paused"}
    )
    assert_invalid(other, "cursor")
    tampered = issued[:-2] + ("AA" if not issued.endswith("AA") else "BB")
    assert_invalid(await stack.api.get("/v1/accounts", params={"cursor": tampered}), "cursor")
    assert time.monotonic() - began < 2.0
    same = await stack.api.get("/v1/accounts", params={"page_size": 1, "cursor": issued})
    assert same.status_code == 200, same.text

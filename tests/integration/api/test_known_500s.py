"""The fuzzer's failures that issue 13 fixed (bench/fuzz_cases.py, SIGNATURES), one concrete
request each, kept as regressions.

Each test asserts what the API does: a problem+json 422 naming the field, and no state change
(no audit row, the account's process as it was, no account created). A failure the fuzzer finds
later gets a strict xfail here (`known_500`, `raises=AssertionError`: a test that breaks in any
other way fails instead of passing for the expected failure) and a `known` in fuzz_cases.py.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Stack
from tests.integration.support import assert_problem, customer_today, new_account, overdue_body

pytestmark = pytest.mark.integration


def known_500(what: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason=f"issue 13: {what}")


def _required(answer: httpx.Response, *statuses: int) -> dict[str, Any]:
    """A step the test stands on: not an AssertionError, so never the expected failure."""
    if answer.status_code not in statuses:
        raise RuntimeError(f"{answer.request.url}: {answer.status_code} {answer.text}")
    body: dict[str, Any] = answer.json()
    return body


@pytest.fixture
async def account(stack: Stack) -> str:
    """A running account in CNY, two days past due."""
    account_id = new_account()
    _required(await stack.api.put(f"/v1/accounts/{account_id}/overdue", json=overdue_body()), 201)
    return account_id


async def _state(stack: Stack, account_id: str) -> tuple[Any, ...]:
    """What a refused request must leave as it was: the process's status and the audit trail."""
    status = _required(await stack.api.get(f"/v1/accounts/{account_id}"), 200)
    audit = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE account_id = $1", account_id
    )
    return status["state"], status["balance_minor"], status.get("stage"), audit


async def _unknown(stack: Stack, account_id: str) -> bool:
    row = await stack.pool.fetchval("SELECT 1 FROM accounts WHERE account_id = $1", account_id)
    return row is None and (await stack.api.get(f"/v1/accounts/{account_id}")).status_code == 404


def assert_invalid(answer: httpx.Response, field: str) -> None:
    problem = assert_problem(answer, 422)
    assert field in {error["field"] for error in problem["errors"]}, problem


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("hardship", {"report_id": "H-1", "reason": "job\x00loss"}, "reason"),
        ("disputes", {"dispute_id": "D-1", "reason": "amount\x00"}, "reason"),
        ("disputes/D-1/close", {"resolution": "\x00withdrawn"}, "resolution"),
        ("cease-contact", {"request_id": "C-1", "reason": "\x00"}, "reason"),
    ],
)
async def test_nul_in_a_reason_is_refused(
    stack: Stack, account: str, path: str, body: dict[str, str], field: str
) -> None:
    before = await _state(stack, account)
    assert_invalid(await stack.api.post(f"/v1/accounts/{account}/{path}", json=body), field)
    assert await _state(stack, account) == before


async def test_nul_in_the_customer_name_is_refused(stack: Stack) -> None:
    account_id = new_account()
    body = overdue_body(customer={**overdue_body()["customer"], "name": "Li\x00Na"})
    answer = await stack.api.put(f"/v1/accounts/{account_id}/overdue", json=body)
    assert_invalid(answer, "customer.name")
    assert await _unknown(stack, account_id)


async def test_an_amount_due_past_int64_is_refused(stack: Stack) -> None:
    account_id = new_account()
    body = overdue_body(amount_due={"amount_minor": 2**63, "currency": "CNY"})
    answer = await stack.api.put(f"/v1/accounts/{account_id}/overdue", json=body)
    assert_invalid(answer, "amount_due.amount_minor")
    assert await _unknown(stack, account_id)


async def test_a_payment_past_int64_is_refused(stack: Stack, account: str) -> None:
    before = await _state(stack, account)
    body = {"payment_id": "P-1", "amount_minor": 2**63, "currency": "CNY"}
    body["paid_at"] = f"{customer_today().isoformat()}T00:00:00Z"
    answer = await stack.api.post(f"/v1/accounts/{account}/payments", json=body)
    assert_invalid(answer, "amount_minor")
    assert await _state(stack, account) == before


async def test_a_malformed_list_cursor_is_refused_at_once(stack: Stack) -> None:
    began = time.monotonic()
    answer = await stack.api.get("/v1/accounts", params={"cursor": "AAAAAAAAAAAAAAAA"})
    assert_invalid(answer, "cursor")
    assert time.monotonic() - began < 5.0  # no retries against Temporal


def _timeline_cursor(*position: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "position",
    [
        ("9999-12-31T23:59:59-23:00", "audit", 1),  # past datetime.max in UTC
        ("0001-01-01T00:00:00+23:00", "audit", 1),  # before datetime.min in UTC
        ("2026-01-01T00:00:00+00:00", "audit", 2**63),  # id past bigint
        ("2026-01-01T00:00:00+00:00", "a\x00", 1),  # NUL in the source
    ],
    ids=["instant-past-max", "instant-before-min", "id-past-int64", "nul-source"],
)
async def test_a_timeline_cursor_beyond_the_database_is_refused(
    stack: Stack, account: str, position: tuple[object, ...]
) -> None:
    cursor = _timeline_cursor(*position)
    answer = await stack.api.get(f"/v1/accounts/{account}/timeline", params={"cursor": cursor})
    assert_invalid(answer, "cursor")


@pytest.mark.parametrize("due_date", ["9999-12-31", "0001-01-01"])
async def test_a_due_date_at_the_calendar_end_is_refused(stack: Stack, due_date: str) -> None:
    account_id = new_account()
    body = overdue_body(due_date=due_date)
    answer = await stack.api.put(f"/v1/accounts/{account_id}/overdue", json=body)
    try:
        assert_invalid(answer, "due_date")
        assert await _unknown(stack, account_id)
    finally:
        # Today a process starts that can never run: do not leave it failing in the stack.
        if answer.status_code == 201:
            await stack.temporal.get_workflow_handle(f"overdue-{account_id}").terminate()

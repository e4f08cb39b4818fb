"""Helpers for tests that drive the real stack: accounts, keys, waiting for the workflow."""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx

from overdue.store.api_keys import Scope, add_key
from tests.clock import zone_where_it_is
from tests.integration.conftest import Stack
from workflows.names import workflow_id

T = TypeVar("T")
NAME = "Li Na"
PHONE = "+8613912345678"
PROBLEM_JSON = "application/problem+json"
# Integration tests run against the real wall clock: their customers live where it is about
# noon now, so a test holds at any hour (inside every contact window, far from a date change).
CUSTOMER_ZONE = zone_where_it_is(12)


def new_account() -> str:
    return f"acct-{uuid.uuid4().hex[:10]}"


def customer_today() -> date:
    """Today on the customer's clock (the zone where it is about noon now)."""
    return datetime.now(ZoneInfo(CUSTOMER_ZONE)).date()


def overdue_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer": {"name": NAME, "phone": PHONE, "time_zone": CUSTOMER_ZONE, "locale": "en"},
        "product": "credit_line",
        "amount_due": {"amount_minor": 50_000, "currency": "CNY"},
        "due_date": (customer_today() - timedelta(days=2)).isoformat(),
    }
    body.update(changes)
    return body


async def start_account(stack: Stack, **changes: Any) -> str:
    account = new_account()
    answer = await stack.api.put(f"/v1/accounts/{account}/overdue", json=overdue_body(**changes))
    assert answer.status_code == 201, answer.text
    return account


async def eventually(check: Callable[[], Awaitable[T | None]], within: float = 30.0) -> T:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.2)


async def state_of(stack: Stack, account: str) -> str:
    answer = await stack.api.get(f"/v1/accounts/{account}")
    assert answer.status_code == 200, answer.text
    state: str = answer.json()["state"]
    return state


async def key_with(stack: Stack, *scopes: Scope) -> str:
    async with stack.pool.acquire() as conn:
        _, key = await add_key(conn, f"t-{uuid.uuid4().hex[:8]}", scopes)
    return key


def client(stack: Stack, key: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(base_url=stack.settings.api_url, timeout=30, headers=headers)


def assert_problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"] == "about:blank"
    assert body["request_id"] == answer.headers["x-request-id"]
    assert body["instance"] == answer.request.url.path
    return body


_PAYLOAD_DATA = re.compile(r'"data": "([A-Za-z0-9+/=]+)"')


async def decoded_history(stack: Stack, account: str) -> str:
    """The workflow's history as JSON plus each payload's data decoded: payloads are base64 in
    the JSON, so a search of `to_json()` alone could never find a name in an input."""
    history = await stack.temporal.get_workflow_handle(workflow_id(account)).fetch_history()
    text = history.to_json()
    decoded = [base64.b64decode(d).decode("utf-8", "replace") for d in _PAYLOAD_DATA.findall(text)]
    return "\n".join([text, *decoded])

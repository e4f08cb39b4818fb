"""Request ids, problem+json for every 4xx, and the body size limit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from overdue.request_context import RequestIdFilter
from tests.integration.conftest import Stack
from tests.integration.support import NAME, PHONE, assert_problem, new_account, overdue_body

pytestmark = pytest.mark.integration


async def test_a_clean_request_id_is_echoed_and_an_odd_one_replaced(stack: Stack) -> None:
    kept = await stack.api.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert kept.headers["x-request-id"] == "trace-42"
    replaced = await stack.api.get("/healthz", headers={"X-Request-ID": "bad id\twith tab"})
    assert replaced.headers["x-request-id"] not in ("bad id\twith tab", "")
    fresh = [(await stack.api.get("/healthz")).headers["x-request-id"] for _ in range(2)]
    assert fresh[0] != fresh[1]


async def test_every_log_line_of_a_request_carries_its_id(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestIdFilter())
    account = new_account()
    answer = await stack.api.put(
        f"/v1/accounts/{account}/overdue",
        json=overdue_body(),
        headers={"X-Request-ID": "put-the-bill-1"},
    )
    assert answer.status_code == 201
    mine = [r for r in caplog.records if getattr(r, "request_id", None) == "put-the-bill-1"]
    assert {r.name for r in mine} >= {"api.overdue_reports", "api.access"}
    assert any("PUT /v1/accounts/" in r.getMessage() and "201" in r.getMessage() for r in mine)
    for record in caplog.records:  # and no personal data in any of them
        assert NAME not in record.getMessage() and PHONE not in record.getMessage()


async def test_unknown_paths_and_methods_are_problems(stack: Stack) -> None:
    assert_problem(await stack.api.get("/v1/nowhere"), 404)
    assert_problem(await stack.api.delete("/v1/accounts/a-1"), 405)


async def test_invalid_input_names_each_field(stack: Stack) -> None:
    answer = await stack.api.get("/v1/accounts", params={"state": "sleeping", "page_size": 0})
    body = assert_problem(answer, 422)
    fields = {(e["field"], e["in"]) for e in body["errors"]}
    assert fields == {("state", "query"), ("page_size", "query")}
    malformed = await stack.api.put(
        "/v1/accounts/a-1/overdue",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert_problem(malformed, 422)


async def test_a_body_over_the_limit_is_413_and_changes_nothing(stack: Stack) -> None:
    limit = stack.settings.api_max_body_bytes
    account = new_account()
    padded = overdue_body(product="x" * (limit + 10))
    declared = await stack.api.put(f"/v1/accounts/{account}/overdue", json=padded)
    assert "limit" in assert_problem(declared, 413)["detail"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"product": "'
        for _ in range(limit // 1000 + 2):
            yield b"x" * 1000
        yield b'"}'

    streamed = await stack.api.put(
        f"/v1/accounts/{account}/overdue",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert_problem(streamed, 413)
    assert not await stack.pool.fetchval("SELECT 1 FROM accounts WHERE account_id = $1", account)

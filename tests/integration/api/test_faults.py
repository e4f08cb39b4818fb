"""Faults and stalls (issue 13): with Temporal unreachable the API answers 503 with
Retry-After within seconds, holds no connection or lock across the Temporal call, keeps
serving Postgres-only reads, and the relay delivers what it recorded once Temporal is back.

"Temporal unreachable" is a second API in this process whose Temporal address is a closed
port, over the suite's real Postgres; the suite's own API (with its relay) shares that
Postgres and a running Temporal, so it plays "Temporal is back".
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from api.app import create_app
from overdue.migrate import upgrade_async
from overdue.settings import Settings
from overdue.store.api_keys import ALL_SCOPES, add_key
from overdue.store.contact_gate import unseen_payments
from tests.integration.conftest import Stack
from tests.integration.support import (
    PROBLEM_JSON,
    eventually,
    new_account,
    overdue_body,
    start_account,
    state_of,
)
from workers.devstack.local_postgres import start_local_postgres_async
from workflows.contact_types import DecisionBasis

pytestmark = pytest.mark.integration


def assert_unavailable(answer: httpx.Response, took: float) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    assert int(answer.headers["retry-after"]) > 0
    assert took < 3.0, f"503 after {took:.1f} s"


async def timed(call: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = await call  # type: ignore[misc]
    return answer, time.monotonic() - started


async def test_writes_answer_503_at_once_and_the_relay_delivers_them(
    stack: Stack, cut_off: httpx.AsyncClient
) -> None:
    running = await start_account(stack)
    new = new_account()
    answer, took = await timed(cut_off.put(f"/v1/accounts/{new}/overdue", json=overdue_body()))
    assert_unavailable(answer, took)
    payment = {
        "payment_id": "P-outage",
        "amount_minor": 50_000,
        "currency": "CNY",
        "paid_at": datetime.now(UTC).isoformat(),
    }
    answer, took = await timed(cut_off.post(f"/v1/accounts/{running}/payments", json=payment))
    assert_unavailable(answer, took)

    # Postgres-only reads do not wait for Temporal, and nothing holds the account's lock.
    answer, took = await timed(cut_off.get(f"/v1/accounts/{running}/contacts"))
    assert answer.status_code == 200 and took < 1.0, (answer.status_code, took)
    answer, took = await timed(cut_off.get("/readyz"))
    assert answer.status_code == 503 and took < 2.0, (answer.text, took)
    assert answer.json()["postgres"] == "ok"
    # The contact gate sees the payment as soon as it is recorded, before any signal.
    basis = DecisionBasis(payments_known=[], since=datetime(2000, 1, 1, tzinfo=UTC))
    assert await unseen_payments(stack.pool, running, basis) == 1

    # Temporal "is back": the suite's API relays both, once each.
    assert await eventually(lambda: _is_state(stack, running, "resolved"))
    assert await eventually(lambda: _is_state(stack, new, "active"))
    for account, kind in [(running, "payment.reported"), (new, "process.started")]:
        count = await stack.pool.fetchval(
            "SELECT count(*) FROM audit_events WHERE account_id = $1 AND kind = $2",
            account,
            kind,
        )
        assert count == 1, (account, kind)


async def test_a_client_retrying_after_a_503_starts_the_process_once(
    stack: Stack, cut_off: httpx.AsyncClient
) -> None:
    account = new_account()
    answer = await cut_off.put(f"/v1/accounts/{account}/overdue", json=overdue_body())
    assert answer.status_code == 503, answer.text
    # The retry (through a working API) and the relay race to deliver: one start either way.
    again = await stack.api.put(f"/v1/accounts/{account}/overdue", json=overdue_body())
    assert again.status_code in (200, 201), again.text
    assert await eventually(lambda: _is_state(stack, account, "active"))
    started = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE account_id = $1 AND kind = 'process.started'",
        account,
    )
    assert started == 1


async def test_a_payment_for_an_ended_process_is_refused_without_a_trace(stack: Stack) -> None:
    account = await start_account(stack)
    await stack.temporal.get_workflow_handle(f"overdue-{account}").terminate("test")
    payment = {
        "payment_id": "P-late",
        "amount_minor": 100,
        "currency": "CNY",
        "paid_at": datetime.now(UTC).isoformat(),
    }
    answer = await stack.api.post(f"/v1/accounts/{account}/payments", json=payment)
    assert answer.status_code == 409, answer.text
    assert not await stack.pool.fetchval(
        "SELECT count(*) FROM reported_events WHERE account_id = $1", account
    )
    assert not await stack.pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE account_id = $1 AND kind = 'payment.reported'",
        account,
    )


async def _is_state(stack: Stack, account: str, state: str) -> bool:
    answer = await stack.api.get(f"/v1/accounts/{account}")
    return answer.status_code == 200 and (await state_of(stack, account)) == state


async def test_with_postgres_down_the_api_answers_503_at_once(stack: Stack, tmp_path: Path) -> None:
    postgres = await start_local_postgres_async(tmp_path / "pg")
    try:
        await upgrade_async(postgres.url)
        settings = Settings(
            database_url=postgres.url,
            temporal_host=stack.settings.temporal_host,
            temporal_port=stack.settings.temporal_port,
            policy_file=stack.settings.policy_file,
        )
        conn = await asyncpg.connect(postgres.url)
        try:
            _, key = await add_key(conn, "t-pg-down", ALL_SCOPES)
        finally:
            await conn.close()
        app = create_app(settings)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://pg-down",
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            ) as client,
        ):
            await postgres.stop_async()
            for call in (
                client.get("/v1/accounts/acct-x/contacts"),
                client.put("/v1/accounts/acct-x/overdue", json=overdue_body()),
            ):
                answer, took = await timed(call)
                assert_unavailable(answer, took)
            answer, took = await timed(client.get("/readyz"))
            assert answer.status_code == 503 and took < 2.0, (answer.text, took)
            assert answer.json()["temporal"] == "ok"
    finally:
        await postgres.stop_async()

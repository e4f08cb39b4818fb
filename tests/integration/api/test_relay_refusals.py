"""The relay and a report it cannot deliver (api/relay.py, overdue/store/relay_refusals.py):
the row waits longer after each refusal and never holds up the others; after
RELAY_MAX_ATTEMPTS it is given up, audited, listed by `overdue relay list`, and `overdue relay
retry` gives it back once the cause is fixed.

The report is recorded by an API whose Temporal is unreachable (the `cut_off` fixture); its
stored start input is then broken in Postgres, as a model change could leave an old one. The
suite's own API relays all the while, as it would in production.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.dependencies import Services
from api.relay import relay_once
from overdue.policy_files import load_policy
from overdue.store.relay_refusals import RELAY_MAX_ATTEMPTS
from tests.integration.conftest import Stack
from tests.integration.support import eventually, new_account, overdue_body, state_of
from workers.cli.relay_commands import list_given_up, retry_given_up

pytestmark = pytest.mark.integration


async def _recorded_not_delivered(cut_off: httpx.AsyncClient) -> str:
    account = new_account()
    answer = await cut_off.put(f"/v1/accounts/{account}/overdue", json=overdue_body())
    assert answer.status_code == 503, answer.text
    return account


async def _relay_row(stack: Stack, account: str) -> dict[str, Any]:
    row = await stack.pool.fetchrow(
        "SELECT relay_attempts, relay_after > now() AS waits, relay_error,"
        " relay_given_up_at IS NOT NULL AS given_up, delivered_at IS NOT NULL AS delivered"
        " FROM account_bills WHERE account_id = $1",
        account,
    )
    assert row is not None
    return dict(row)


async def test_a_report_the_relay_cannot_deliver_waits_is_given_up_and_retried(
    stack: Stack, cut_off: httpx.AsyncClient
) -> None:
    poisoned = await _recorded_not_delivered(cut_off)
    bill_id, stored = await stack.pool.fetchrow(
        "SELECT bill_id, start_input FROM account_bills WHERE account_id = $1", poisoned
    )
    await stack.pool.execute(
        'UPDATE account_bills SET start_input = \'{"no": "such input"}\' WHERE account_id = $1',
        poisoned,
    )
    healthy = await _recorded_not_delivered(cut_off)  # younger: behind the poisoned one

    # The relay notes the refusal and goes on: the healthy report is delivered.
    assert await eventually(lambda: _is_active(stack, healthy))
    row = await _relay_row(stack, poisoned)
    assert row["relay_error"] == "ValidationError" and row["relay_attempts"] >= 1
    assert row["waits"] and not row["delivered"]

    # Each try after its wait is one more refusal, until it is given up (the suite's relay
    # may take some of the tries).
    services = Services(
        settings=stack.settings,
        pool=stack.pool,
        temporal=stack.temporal,
        policy=load_policy(stack.settings.policy_file),
    )
    for _ in range(RELAY_MAX_ATTEMPTS):
        if (await _relay_row(stack, poisoned))["given_up"]:
            break
        await stack.pool.execute(
            "UPDATE account_bills SET relay_after = now() WHERE account_id = $1", poisoned
        )
        await relay_once(services, older_than=timedelta(0))
    row = await _relay_row(stack, poisoned)
    assert row["given_up"] and row["relay_attempts"] == RELAY_MAX_ATTEMPTS, row
    await stack.pool.execute(
        "UPDATE account_bills SET relay_after = now() WHERE account_id = $1", poisoned
    )
    await relay_once(services, older_than=timedelta(0))
    assert (await _relay_row(stack, poisoned))["relay_attempts"] == RELAY_MAX_ATTEMPTS
    given_up = await stack.pool.fetchval(
        "SELECT details FROM audit_events WHERE account_id = $1 AND kind = 'relay.given_up'",
        poisoned,
    )
    assert json.loads(given_up) == {
        "outbox": "bill",
        "kind": "bill",
        "id": bill_id,
        "error": "ValidationError",
    }

    listed = io.StringIO()
    assert await list_given_up(stack.settings.require_database_url(), poisoned, out=listed) == 0
    line = listed.getvalue().splitlines()[1].split("\t")
    assert line[:5] == [poisoned, "bill", bill_id, str(RELAY_MAX_ATTEMPTS), "ValidationError"]

    # Fixed (the input as stored), then given back: the relay starts the process.
    await stack.pool.execute(
        "UPDATE account_bills SET start_input = $2 WHERE account_id = $1", poisoned, stored
    )
    said = io.StringIO()
    assert await retry_given_up(stack.settings.require_database_url(), poisoned, out=said) == 0
    assert said.getvalue() == "1 row(s) given back to the relay\n"
    assert await eventually(lambda: _is_active(stack, poisoned))
    nothing = io.StringIO()
    await list_given_up(stack.settings.require_database_url(), poisoned, out=nothing)
    assert nothing.getvalue() == "nothing given up\n"


async def _is_active(stack: Stack, account: str) -> bool:
    answer = await stack.api.get(f"/v1/accounts/{account}")
    return answer.status_code == 200 and (await state_of(stack, account)) == "active"

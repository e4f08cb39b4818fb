"""The pre-send check reads what the API records: a dispute or a cease-contact request
reported through the API is in `reported_events` under the kinds and ids the check looks for
(overdue/store/contact_gate.py), as soon as the API answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from overdue.store import reported_events
from tests.integration.conftest import Stack
from tests.integration.support import start_account

pytestmark = pytest.mark.integration

SINCE = datetime(2000, 1, 1, tzinfo=UTC)


async def test_a_dispute_reported_through_the_api_is_open_to_the_check_until_closed(
    stack: Stack,
) -> None:
    account = await start_account(stack)
    base = f"/v1/accounts/{account}"

    async def unseen(known: list[str]) -> int:
        return await reported_events.unseen_open_disputes(
            stack.pool, account, since=SINCE, known=known
        )

    opened = await stack.api.post(f"{base}/disputes", json={"dispute_id": "D-9", "reason": "x"})
    assert opened.status_code == 202, opened.text
    assert (await unseen([]), await unseen(["D-9"])) == (1, 0)
    closed = await stack.api.post(f"{base}/disputes/D-9/close", json={"resolution": "upheld"})
    assert closed.status_code == 202, closed.text
    assert await unseen([]) == 0


async def test_a_cease_reported_through_the_api_is_seen_by_the_check(stack: Stack) -> None:
    account = await start_account(stack)
    assert not await reported_events.cease_reported(stack.pool, account, since=SINCE)
    ceased = await stack.api.post(
        f"/v1/accounts/{account}/cease-contact",
        json={"request_id": "C-9", "reason": "customer_request"},
    )
    assert ceased.status_code == 202, ceased.text
    assert await reported_events.cease_reported(stack.pool, account, since=SINCE)
    later = await stack.pool.fetchval("SELECT clock_timestamp()")  # the events' clock
    assert not await reported_events.cease_reported(stack.pool, account, since=later)

"""The contact window at the point of contact: claiming a call task and recording a call.

The stack's policy (tests/policies/fast.yaml) gives Japanese numbers an 08:00-21:00 window.
One customer lives where it is about 03:00 now, one where it is about noon, so the test holds
at any hour of the day.
"""

from __future__ import annotations

import uuid

import pytest

from overdue.store.call_tasks import create_task
from overdue.store.console_users import Role
from tests.clock import zone_where_it_is
from tests.integration.conftest import Stack
from tests.integration.console.conftest import User, csrf_of, logged_in, make_user
from tests.integration.support import start_account
from workflows.policy import CallQueue

pytestmark = pytest.mark.integration

JP_PHONE = "+819012345678"
# Above any policy stage's priority, so these tasks come first in "next task".
TOP = 100_000


async def _customer_task(stack: Stack, local_hour: int, priority: int) -> tuple[str, int]:
    """An account whose customer lives where it is `local_hour` now, with a due general task."""
    zone = zone_where_it_is(local_hour)
    customer = {"name": "Test Customer", "phone": JP_PHONE, "time_zone": zone, "locale": "en"}
    account = await start_account(stack, customer=customer)
    async with stack.pool.acquire() as conn:
        task, _ = await create_task(
            conn,
            idempotency_key=f"claim-window-{uuid.uuid4().hex}",
            account_id=account,
            stage_id="t3s_call",
            queue=CallQueue.GENERAL.value,
            priority=priority,
            due_at=await conn.fetchval("SELECT now() - interval '1 minute'"),
        )
    return account, task.id


async def test_next_task_skips_a_customer_outside_the_window(stack: Stack) -> None:
    agent = await make_user(stack, Role.AGENT, CallQueue.GENERAL)
    _, night = await _customer_task(stack, 3, TOP + 1)  # first in line, but 03:00 there
    _, noon = await _customer_task(stack, 12, TOP)
    async with logged_in(stack, agent) as browser:
        home = await browser.get("/console")
        taken = await browser.post("/console/tasks/next", data={"csrf_token": csrf_of(home)})
        assert taken.status_code == 303
        assert taken.headers["location"] == f"/console/tasks/{noon}"
        page = await browser.get(f"/console/tasks/{noon}")
        assert 'data-testid="local-time"' in page.text
        assert 'data-testid="workable-from"' not in page.text
        queue = await browser.get("/console")
        assert f'data-testid="local-time-{noon}"' in queue.text
    night_row = await stack.pool.fetchrow(
        "SELECT status, claimed_by FROM call_tasks WHERE id = $1", night
    )
    assert night_row is not None and tuple(night_row) == ("open", None)
    await stack.pool.execute(  # out of later tests' way
        "UPDATE call_tasks SET status = 'cancelled' WHERE id = ANY($1)", [night, noon]
    )


async def test_a_held_task_outside_the_window_refuses_call_outcomes(
    stack: Stack, agent: User
) -> None:
    account, night = await _customer_task(stack, 3, TOP)
    # Claimed earlier (as if in the window); the customer's night has come since.
    await stack.pool.execute(
        "UPDATE call_tasks SET status = 'claimed', claimed_by = $2, claimed_at = now() "
        "WHERE id = $1",
        night,
        agent.username,
    )
    async with logged_in(stack, agent) as browser:
        page = await browser.get(f"/console/tasks/{night}")
        assert page.status_code == 200
        assert 'data-testid="local-time"' in page.text
        assert 'data-testid="workable-from">08:00<' in page.text
        assert 'data-testid="outside-hours"' in page.text
        refused = await browser.post(
            f"/console/tasks/{night}/outcome",
            data={"csrf_token": csrf_of(page), "action": "call", "outcome": "no_answer"},
        )
        assert refused.status_code == 409
        assert "calling hours until 08:00" in refused.text
        outcomes = await stack.pool.fetchval(
            "SELECT count(*) FROM audit_events WHERE account_id = $1 AND kind = 'call.outcome'",
            account,
        )
        assert outcomes == 0
        row = await stack.pool.fetchrow(
            "SELECT status, claimed_by, outcome FROM call_tasks WHERE id = $1", night
        )
        assert row is not None and tuple(row) == ("claimed", agent.username, None)
        released = await browser.post(
            f"/console/tasks/{night}/release", data={"csrf_token": csrf_of(page)}
        )
        assert released.status_code == 303
    status = await stack.pool.fetchval("SELECT status FROM call_tasks WHERE id = $1", night)
    assert status == "open"
    await stack.pool.execute("UPDATE call_tasks SET status = 'cancelled' WHERE id = $1", night)

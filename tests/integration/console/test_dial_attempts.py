"""Recording dial attempts in the console: recorded and listed in the customer's local time,
audited; refused with 409 and the reason (en, zh-CN) over a cap or outside the window.

Each customer gets a number of their own, since attempts are counted per number. The stack's
policy (tests/policies/fast.yaml) allows 100 unanswered attempts a day, a whole-day window for
Chinese numbers and 08:00-21:00 for Japanese ones; customers are placed where it is 12:00 or
03:00 now, so the test holds at any hour.
"""

from __future__ import annotations

import asyncio
import random
import uuid

import phonenumbers
import pytest

from overdue.store.call_tasks import create_task
from overdue.store.console_users import Role
from overdue.store.dial_attempts import number_ref
from tests.clock import zone_where_it_is
from tests.integration.conftest import Stack
from tests.integration.console.conftest import (
    User,
    csrf_of,
    logged_in,
    make_user,
    only_specialist_task,
)
from tests.integration.support import start_account

pytestmark = pytest.mark.integration

DAILY_CAP = 100  # fast.yaml's calls_per_day


def _phone(prefix: str) -> str:
    """A random number that is a valid one: a random but invalid one has no country
    (`jurisdiction` answers "default"), so it would get the default window, not its own."""
    while True:
        phone = prefix + "".join(random.choices("0123456789", k=8))
        if phonenumbers.is_valid_number(phonenumbers.parse(phone)):
            return phone


async def _dials(stack: Stack, account: str) -> int:
    count: int = await stack.pool.fetchval(
        "SELECT count(*) FROM dial_attempts WHERE account_id = $1", account
    )
    return count


async def _earlier_unanswered(
    stack: Stack, task_id: int, account: str, phone: str, zone: str, count: int
) -> None:
    """`count` unanswered attempts to `phone` a minute ago (today, where it is about noon)."""
    await stack.pool.execute(
        """
        INSERT INTO dial_attempts (task_id, account_id, number_ref, agent_id, dialled_at,
            time_zone, local_at, outcome, unanswered, conversation, checked)
        SELECT $1, $2, $3, 'agent-earlier', now() - interval '1 minute', $4,
               (now() - interval '1 minute') AT TIME ZONE $4, 'busy', true, false, '{}'
          FROM generate_series(1, $5)
        """,
        task_id,
        account,
        number_ref(phone),
        zone,
        count,
    )


async def _claimed_task(stack: Stack, account: str, agent: User) -> int:
    async with stack.pool.acquire() as conn:
        task, _ = await create_task(
            conn,
            idempotency_key=f"dial-{uuid.uuid4().hex}",
            account_id=account,
            stage_id="t3s_call",
            queue=agent.queue.value,
            priority=0,
            due_at=await conn.fetchval("SELECT now() - interval '1 minute'"),
        )
    await stack.pool.execute(  # claimed earlier, inside the window
        "UPDATE call_tasks SET status = 'claimed', claimed_by = $2, claimed_at = now() "
        "WHERE id = $1",
        task.id,
        agent.username,
    )
    return task.id


async def test_dials_are_recorded_listed_audited_and_capped(stack: Stack, agent: User) -> None:
    phone = _phone("+86139")
    zone = zone_where_it_is(12)
    customer = {"name": "Test Customer", "phone": phone, "time_zone": zone, "locale": "en"}
    account, task_id = await only_specialist_task(stack, customer=customer)
    async with logged_in(stack, agent) as browser:
        taken = await browser.post(
            "/console/tasks/next", data={"csrf_token": csrf_of(await browser.get("/console"))}
        )
        assert taken.headers["location"] == f"/console/tasks/{task_id}"
        page = await browser.get(f"/console/tasks/{task_id}")
        assert 'data-testid="form-dial"' in page.text and 'data-testid="form-call"' in page.text
        url = f"/console/tasks/{task_id}/dials"
        bad = await browser.post(url, data={"csrf_token": csrf_of(page), "outcome": "hung_up"})
        assert bad.status_code == 422 and "Choose one of the listed dial outcomes" in bad.text
        assert await _dials(stack, account) == 0

        done = await browser.post(url, data={"csrf_token": csrf_of(page), "outcome": "no_answer"})
        assert done.status_code == 200 and "Dial attempt recorded." in done.text
        assert 'data-testid="dial-no_answer"' in done.text and f"({zone})" in done.text
        assert "No answer" in done.text

        # The rest of today's unanswered attempts, made earlier today by another agent.
        await _earlier_unanswered(stack, task_id, account, phone, zone, DAILY_CAP - 1)
        refused = await browser.post(url, data={"csrf_token": csrf_of(page), "outcome": "busy"})
        assert refused.status_code == 409
        assert "unanswered attempts to this number are used up" in refused.text
        assert await _dials(stack, account) == DAILY_CAP
        again = await browser.get(f"/console/tasks/{task_id}")
        assert 'data-testid="dial-refused"' in again.text
    async with logged_in(stack, agent, **{"Accept-Language": "zh-CN"}) as chinese:
        page = await chinese.get(f"/console/tasks/{task_id}")
        refused = await chinese.post(url, data={"csrf_token": csrf_of(page), "outcome": "busy"})
        assert refused.status_code == 409 and "未接通拨号次数已用完" in refused.text
    audited = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE account_id = $1 AND kind = 'call.dial_attempt'",
        account,
    )
    assert audited == 1
    await stack.pool.execute("UPDATE call_tasks SET status = 'cancelled' WHERE id = $1", task_id)


async def test_a_dial_outside_the_window_is_refused(stack: Stack, agent: User) -> None:
    zone = zone_where_it_is(3)
    customer = {"name": "Test Customer", "phone": _phone("+8190"), "time_zone": zone}
    account = await start_account(stack, customer={**customer, "locale": "en"})
    task_id = await _claimed_task(stack, account, agent)
    async with logged_in(stack, agent) as browser:
        page = await browser.get(f"/console/tasks/{task_id}")
        refused = await browser.post(
            f"/console/tasks/{task_id}/dials",
            data={"csrf_token": csrf_of(page), "outcome": "no_answer"},
        )
        assert refused.status_code == 409
        assert "Outside the customer&#39;s calling hours: no dial until" in refused.text
        assert "08:00" in refused.text
    assert await _dials(stack, account) == 0
    await stack.pool.execute("UPDATE call_tasks SET status = 'cancelled' WHERE id = $1", task_id)


async def test_two_agents_dialling_one_number_at_the_cap_edge_record_one(stack: Stack) -> None:
    """A customer with two accounts, each task held by another agent: with one unanswered
    attempt left today, two dials at once record exactly one."""
    phone, zone = _phone("+86139"), zone_where_it_is(12)
    customer = {"name": "Test Customer", "phone": phone, "time_zone": zone, "locale": "en"}
    agents = [await make_user(stack, Role.AGENT) for _ in range(2)]
    accounts = [await start_account(stack, customer=customer) for _ in range(2)]
    tasks = [
        await _claimed_task(stack, a, agent) for a, agent in zip(accounts, agents, strict=True)
    ]
    await _earlier_unanswered(stack, tasks[0], accounts[0], phone, zone, DAILY_CAP - 1)
    async with logged_in(stack, agents[0]) as first, logged_in(stack, agents[1]) as second:
        pages = [
            await first.get(f"/console/tasks/{tasks[0]}"),
            await second.get(f"/console/tasks/{tasks[1]}"),
        ]
        answers = await asyncio.gather(
            *(
                browser.post(
                    f"/console/tasks/{task_id}/dials",
                    data={"csrf_token": csrf_of(page), "outcome": "no_answer"},
                )
                for browser, task_id, page in zip((first, second), tasks, pages, strict=True)
            )
        )
    assert sorted(a.status_code for a in answers) == [200, 409]
    dialled = await stack.pool.fetchval(
        "SELECT count(*) FROM dial_attempts WHERE number_ref = $1", number_ref(phone)
    )
    assert dialled == DAILY_CAP
    await stack.pool.execute("UPDATE call_tasks SET status = 'cancelled' WHERE id = ANY($1)", tasks)

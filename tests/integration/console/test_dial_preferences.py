"""A dial honours what the customer said (their preferences, recorded on the task page): none
in a time they called inconvenient, none at all once they refused calls; 409 with the reason,
nothing recorded. The customer lives where it is about noon now, so the test holds at any hour.
"""

from __future__ import annotations

import random

import httpx
import phonenumbers
import pytest

from tests.clock import zone_where_it_is
from tests.integration.conftest import Stack
from tests.integration.console.conftest import User, csrf_of, logged_in, only_specialist_task

pytestmark = pytest.mark.integration


def _cn_phone() -> str:
    while True:
        phone = "+86139" + "".join(random.choices("0123456789", k=8))
        if phonenumbers.is_valid_number(phonenumbers.parse(phone)):
            return phone


async def _say(browser: httpx.AsyncClient, task_id: int, **form: str) -> None:
    page = await browser.get(f"/console/tasks/{task_id}")
    said = await browser.post(
        f"/console/tasks/{task_id}/outcome",
        data={"csrf_token": csrf_of(page), "action": "preferences", **form},
    )
    assert said.status_code == 200, said.text


async def _dial(browser: httpx.AsyncClient, task_id: int) -> httpx.Response:
    page = await browser.get(f"/console/tasks/{task_id}")
    return await browser.post(
        f"/console/tasks/{task_id}/dials",
        data={"csrf_token": csrf_of(page), "outcome": "no_answer"},
    )


async def test_a_dial_keeps_the_customers_inconvenient_times_and_refused_calls(
    stack: Stack, agent: User
) -> None:
    phone = _cn_phone()
    customer = {"name": "Test Customer", "phone": phone, "time_zone": zone_where_it_is(12)}
    account, task_id = await only_specialist_task(stack, customer={**customer, "locale": "en"})
    async with logged_in(stack, agent) as browser:
        taken = await browser.post(
            "/console/tasks/next", data={"csrf_token": csrf_of(await browser.get("/console"))}
        )
        assert taken.headers["location"] == f"/console/tasks/{task_id}"
        await _say(browser, task_id, inconvenient_times="daily 10:00-14:00")
        lunch = await _dial(browser, task_id)
        assert lunch.status_code == 409
        assert "said this time is inconvenient: no dial until" in lunch.text
        assert "14:00" in lunch.text  # a margin of an hour or more either side of now
        page = await browser.get(f"/console/tasks/{task_id}")
        assert 'data-testid="dial-refused"' in page.text

        await _say(browser, task_id, inconvenient_times="", refuse_call="on")
        refused = await _dial(browser, task_id)
        assert refused.status_code == 409 and "asked not to be called" in refused.text
    count = await stack.pool.fetchval(
        "SELECT count(*) FROM dial_attempts WHERE account_id = $1", account
    )
    assert count == 0
    await stack.pool.execute("UPDATE call_tasks SET status = 'cancelled' WHERE id = $1", task_id)

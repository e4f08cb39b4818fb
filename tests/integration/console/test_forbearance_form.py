"""The task page's forbearance form over HTTP, and the supervisors' overdue reviews: a decision
outside the policy's limits is answered with the workflow's reason and leaves no trace; one
inside them is audited (who, the terms, the task) and shown; a dispute's overdue-review task
shows on the escalation list with how long past its deadline it is."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from overdue.store.call_tasks import create_task
from tests.integration.conftest import Stack
from tests.integration.console.conftest import User, csrf_of, logged_in
from tests.integration.support import customer_today, start_account

pytestmark = pytest.mark.integration


async def _post(browser: httpx.AsyncClient, task_id: int, **form: str) -> httpx.Response:
    page = await browser.get(f"/console/tasks/{task_id}")
    return await browser.post(
        f"/console/tasks/{task_id}/outcome", data={"csrf_token": csrf_of(page), **form}
    )


async def test_an_agent_grants_forbearance_within_the_limits(
    stack: Stack, agent: User, specialist_task: tuple[str, int]
) -> None:
    account, task_id = specialist_task
    today = customer_today()
    audited = "SELECT details FROM audit_events WHERE account_id = $1 AND kind = $2"
    async with logged_in(stack, agent) as browser:
        await browser.post(
            "/console/tasks/next", data={"csrf_token": csrf_of(await browser.get("/console"))}
        )
        page = await browser.get(f"/console/tasks/{task_id}")
        assert 'data-testid="form-forbearance"' in page.text
        low = await _post(
            browser,
            task_id,
            action="forbearance",
            kind="settlement",
            amount="100.00",
            pay_by=str(today + timedelta(days=5)),
        )
        assert low.status_code == 422
        assert "at least 60% of the balance (30000)" in low.text
        assert await stack.pool.fetch(audited, account, "forbearance.granted") == []
        granted = await _post(
            browser,
            task_id,
            action="forbearance",
            kind="holiday",
            until=str(today + timedelta(days=10)),
            note="hospital stay",
        )
        assert granted.status_code == 200, granted.text
    [row] = await stack.pool.fetch(audited, account, "forbearance.granted")
    details = json.loads(row["details"]) if isinstance(row["details"], str) else row["details"]
    assert (details["kind"], details["task_id"]) == ("holiday", task_id)
    assert "text_id" in details and "hospital" not in json.dumps(details)
    status = (await stack.api.get(f"/v1/accounts/{account}")).json()
    assert status["forbearance"]["holiday"]["until"] == str(today + timedelta(days=10))


async def test_an_overdue_review_shows_on_the_supervisors_list(
    stack: Stack, supervisor: User
) -> None:
    account = await start_account(stack)
    deadline = datetime.now(UTC) - timedelta(days=2, hours=3)
    async with stack.pool.acquire() as conn:
        task, _ = await create_task(
            conn,
            idempotency_key=f"{account}:review_overdue_9",
            account_id=account,
            stage_id="review_overdue_9",
            queue="supervisor",
            priority=90,
            due_at=deadline,
        )
    async with logged_in(stack, supervisor) as browser:
        page = await browser.get("/console/escalations")
    assert page.status_code == 200
    assert 'data-testid="overdue-reviews"' in page.text
    assert f'data-task="{task.id}"' in page.text and account in page.text
    assert 'data-testid="overdue-by">2 d 3 h' in page.text

# ruff: noqa: RUF001 -- Chinese text uses full-width punctuation on purpose.
"""The agent's task page in a real browser, in English and in Chinese: the customer's name
(to the queue's agents only, audited), local time with its zone, whether a call is allowed
now, the amount, the messages sent with their text, the stage's call guide and the plan
calculator (a schedule that sums to the balance; a plan over the policy's limits explained).

The clock: the stack's customers live where it is about noon now (tests.integration.support),
and the window tests place a Japanese number (08:00-21:00 in tests/policies/fast.yaml) where
it is about 03:00 or noon now, so every assertion holds at any hour of the wall clock.
Screenshots: test-artifacts/console-task-page-{en,zh-CN}.png.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from overdue.store.call_tasks import create_task
from overdue.store.console_users import Role
from overdue.store.task_desk import PERSONAL_SHOWN
from tests.clock import zone_where_it_is
from tests.integration.conftest import Stack
from tests.integration.console.conftest import (
    PASSWORD,
    User,
    csrf_of,
    logged_in,
    make_user,
    only_specialist_task,
)
from tests.integration.support import (
    CUSTOMER_ZONE,
    NAME,
    eventually,
    start_account,
    state_of,
)
from workflows.policy import CallQueue

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"
JP_PHONE = "+819012345678"


async def _sms_sent(stack: Stack, account: str) -> bool:
    return bool(
        await stack.pool.fetchval(
            "SELECT 1 FROM contact_ledger WHERE account_id = $1 AND channel = 'sms'", account
        )
    )


async def _open_task(browser: Browser, stack: Stack, agent: User, lang: str) -> Page:
    context = await browser.new_context(
        locale=lang, base_url=stack.settings.api_url, viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    await page.goto("/console/login")
    await page.locator("input[name=username]").fill(agent.username)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("main form button[type=submit]").click()
    await expect(page.get_by_test_id("who")).to_contain_text(agent.username)
    await page.locator("form[action='/console/tasks/next'] button").click()
    return page


async def _screenshot(page: Page, lang: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"console-task-page-{lang}.png"), full_page=True)


async def _plan(page: Page, instalments: str) -> None:
    form = page.get_by_test_id("form-plan")
    await form.locator("input[name=instalments]").fill(instalments)
    await form.locator("button").click()


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "en",
            {
                "allowed": "Call allowed now.",
                "amount": "CN¥500.00",
                "parts": ["CN¥166.67", "CN¥166.67", "CN¥166.66"],
                "say": "Verify the holder, then state the balance",
                "too_many": "At most 12 instalments are allowed.",
            },
        ),
        (
            "zh-CN",
            {
                "allowed": "现在可以拨打。",
                "amount": "¥500.00",
                "parts": ["¥166.67", "¥166.67", "¥166.66"],
                "say": "先核实本人身份，再告知欠款金额",
                "too_many": "最多允许 12 期。",
            },
        ),
    ],
)
async def test_task_page_shows_the_customer_the_debt_the_guide_and_the_plan(
    stack: Stack, browser: Browser, lang: str, words: dict[str, Any]
) -> None:
    agent = await make_user(stack, Role.AGENT, CallQueue.SPECIALIST)
    account, task_id = await only_specialist_task(stack)
    await eventually(lambda: _sms_sent(stack, account))
    page = await _open_task(browser, stack, agent, lang)
    try:
        await expect(page).to_have_url(f"{stack.settings.api_url}/console/tasks/{task_id}")
        await expect(page.get_by_test_id("customer-name")).to_have_text(NAME)
        local = page.get_by_test_id("local-time")
        await expect(local).to_contain_text(f"({CUSTOMER_ZONE}, GMT")
        await expect(page.get_by_test_id("agent-time")).to_contain_text("(UTC)")
        call_now = page.get_by_test_id("call-now")
        await expect(call_now).to_have_attribute("data-allowed", "yes")
        await expect(call_now).to_have_text(str(words["allowed"]))
        await expect(page.get_by_test_id("balance")).to_have_text(str(words["amount"]))
        await expect(page.get_by_test_id("product")).to_have_text("credit_line")
        # The SMS went out in the customer's language (en): its text, opened for this agent.
        texts = page.get_by_test_id("contacts").get_by_test_id("message-text")
        await expect(texts.filter(has_text=f"Hello {NAME}, 500.00 CNY")).to_have_count(1)
        # The borrower's link is a live credential: agents see the message without its token.
        await expect(texts.filter(has_text="/s/…")).to_have_count(1)
        await expect(page.get_by_test_id("guide-say")).to_contain_text(str(words["say"]))

        await _plan(page, "3")
        rows = page.get_by_test_id("plan-schedule").locator("tbody tr")
        await expect(rows).to_have_count(3)
        for row, part in zip(await rows.all(), words["parts"], strict=True):
            await expect(row).to_contain_text(part)
        await expect(page.get_by_test_id("plan-total")).to_have_text(str(words["amount"]))
        await expect(page.get_by_test_id("plan-problem")).to_have_count(0)
        await expect(page.get_by_test_id("form-propose-plan")).to_be_visible()
        if lang == "zh-CN":  # the page with a schedule; the English one shows the limit case
            await _screenshot(page, lang)

        await _plan(page, "20")
        problem = page.get_by_test_id("plan-problem")
        await expect(problem).to_have_attribute("data-code", "plan_too_many")
        await expect(problem).to_have_text(str(words["too_many"]))
        await expect(page.get_by_test_id("form-propose-plan")).to_have_count(0)
        if lang == "en":
            await _screenshot(page, lang)
    finally:
        await page.context.close()
    shown = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE account_id = $1 AND kind = $2 AND actor = $3",
        account,
        PERSONAL_SHOWN,
        agent.username,
    )
    assert shown == 1  # once per task and agent, however often the page was loaded


async def test_name_and_texts_are_not_shown_outside_the_tasks_queue(stack: Stack) -> None:
    account, task_id = await only_specialist_task(stack)
    await eventually(lambda: _sms_sent(stack, account))
    supervisor = await make_user(stack, Role.SUPERVISOR, CallQueue.SUPERVISOR)
    async with logged_in(stack, supervisor) as browser:
        page = await browser.get(f"/console/tasks/{task_id}")
    assert page.status_code == 200
    assert NAME not in page.text
    assert f"Hello {NAME}" not in page.text
    assert 'data-testid="customer-name"' in page.text
    assert not await stack.pool.fetchval(
        "SELECT 1 FROM audit_events WHERE account_id = $1 AND kind = $2", account, PERSONAL_SHOWN
    )


async def _jp_task(stack: Stack, local_hour: int) -> int:
    customer = {
        "name": "Sato",
        "phone": JP_PHONE,
        "time_zone": zone_where_it_is(local_hour),
        "locale": "en",
    }
    account = await start_account(stack, customer=customer)
    async with stack.pool.acquire() as conn:
        task, _ = await create_task(
            conn,
            idempotency_key=f"task-page-{uuid.uuid4().hex}",
            account_id=account,
            stage_id="t3s_call",
            queue=CallQueue.GENERAL.value,
            priority=1,
            due_at=await conn.fetchval("SELECT now() + interval '1 day'"),
        )
    return task.id


async def test_call_now_follows_the_customers_calling_hours(stack: Stack) -> None:
    supervisor = await make_user(stack, Role.SUPERVISOR, CallQueue.SUPERVISOR)
    night, noon = await _jp_task(stack, 3), await _jp_task(stack, 12)
    async with logged_in(stack, supervisor, **{"Accept-Language": "zh-CN"}) as browser:
        at_night = await browser.get(f"/console/tasks/{night}")
        at_noon = await browser.get(f"/console/tasks/{noon}")
    assert 'data-allowed="no" data-code="outside_hours"' in at_night.text
    assert "现在不可拨打：不在可拨打时间内" in at_night.text
    assert 'data-allowed="yes" data-code="allowed"' in at_noon.text


async def test_refusals_read_in_the_agents_language(stack: Stack) -> None:
    agent = await make_user(stack, Role.AGENT, CallQueue.SPECIALIST)
    _account, task_id = await only_specialist_task(stack)
    async with logged_in(stack, agent, **{"Accept-Language": "zh-CN"}) as browser:
        token = csrf_of(await browser.get("/console"))
        taken = await browser.post("/console/tasks/next", data={"csrf_token": token})
        assert taken.headers["location"] == f"/console/tasks/{task_id}"
        url = f"/console/tasks/{task_id}/outcome"
        typed = {"csrf_token": token, "action": "promise", "promised_date": "2020-01-01"}
        form = await browser.post(url, data={**typed, "amount": "abc"})
        rejected = await browser.post(url, data={**typed, "amount": "100"})
    assert form.status_code == 422
    assert 'data-reason-code="amount_not_number"' in form.text
    assert "请更正：金额 &#39;abc&#39; 不是数字。" in form.text
    assert rejected.status_code == 422
    assert 'data-reason-code="promise_past"' in rejected.text
    assert "未被接受：承诺还款日期 2020-01-01 已过。" in rejected.text


async def test_a_calculated_plan_is_proposed_and_the_workflow_accepts_it(stack: Stack) -> None:
    """The calculator's schedule, proposed by the agent (hardship report) and approved by a
    supervisor from the same page, passes the workflow's check: it is the same function."""
    agent = await make_user(stack, Role.AGENT, CallQueue.SPECIALIST)
    supervisor = await make_user(stack, Role.SUPERVISOR, CallQueue.SUPERVISOR)
    account, task_id = await only_specialist_task(stack)
    async with logged_in(stack, agent) as browser:
        home = await browser.get("/console")
        token = csrf_of(home)
        await browser.post("/console/tasks/next", data={"csrf_token": token})
        page = await browser.get(f"/console/tasks/{task_id}", params={"instalments": "4"})
        reason = re.search(r'name="reason" maxlength="500" value="([^"]+)"', page.text)
        assert reason and reason.group(1).startswith("The customer asks for 4 instalments of")
        proposed = await browser.post(
            f"/console/tasks/{task_id}/outcome",
            data={"csrf_token": token, "action": "hardship", "reason": reason.group(1)},
        )
        assert proposed.status_code == 200, proposed.text
    assert await eventually(lambda: _state_is(stack, account, "hardship_review"))
    async with logged_in(stack, supervisor) as browser:
        page = await browser.get(f"/console/tasks/{task_id}", params={"instalments": "4"})
        plan = re.search(r'name="plan" value="([^"]+)"', page.text)
        assert plan and len(plan.group(1).splitlines()) == 4
        approved = await browser.post(
            f"/console/accounts/{account}/actions",
            data={
                "csrf_token": csrf_of(page),
                "action": "hardship_decision",
                "decision": "approve",
                "plan": plan.group(1),
                "reason": "",
            },
        )
    assert approved.status_code == 200, approved.text
    assert await state_of(stack, account) == "repayment_plan"


async def _state_is(stack: Stack, account: str, state: str) -> bool:
    return await state_of(stack, account) == state

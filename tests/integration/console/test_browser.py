"""The console in a real browser: Playwright driving Debian's Chromium (never a downloaded one).

Log in, claim the next task, record a dial attempt and a promise to pay and see the workflow's
state change. A screenshot of the task page is kept in test-artifacts/. Without `chromium` the
test fails (the `browser` fixture in tests/integration/conftest.py): it never skips.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.integration.conftest import Stack
from tests.integration.console.conftest import PASSWORD, User
from tests.integration.support import customer_today, eventually, state_of

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"


async def test_agent_claims_a_task_and_records_a_promise(
    stack: Stack, browser: Browser, agent: User, specialist_task: tuple[str, int]
) -> None:
    account, task_id = specialist_task
    context = await browser.new_context(locale="zh-CN", base_url=stack.settings.api_url)
    page = await context.new_page()
    try:
        await page.goto("/console")
        await expect(page).to_have_url(f"{stack.settings.api_url}/console/login")
        await expect(page.locator("h1")).to_have_text("登录")  # the browser asked for Chinese
        await page.get_by_role("link", name="English").click()
        await expect(page.locator("h1")).to_have_text("Log in")

        await page.get_by_label("Username").fill(agent.username)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await expect(page.get_by_test_id("who")).to_contain_text(agent.username)

        await page.get_by_role("button", name="Next task").click()
        await expect(page).to_have_url(f"{stack.settings.api_url}/console/tasks/{task_id}")
        await expect(page.get_by_test_id("account-id")).to_have_text(account)
        await expect(page.get_by_test_id("state")).to_have_attribute("data-state", "active")
        await expect(page.get_by_test_id("phone")).to_have_text("+86 *******5678")

        # Each dial is recorded with its outcome, listed in the customer's local time.
        dial = page.get_by_test_id("form-dial")
        await dial.locator("select[name=outcome]").select_option("voicemail")
        await dial.get_by_role("button", name="Record the dial").click()
        await expect(page.get_by_test_id("answer")).to_have_text("Dial attempt recorded.")
        await expect(page.get_by_test_id("dial-voicemail")).to_contain_text("Voicemail")

        promise = page.get_by_test_id("form-promise")
        await promise.get_by_label("Amount").fill("500.00")
        promised = customer_today() + timedelta(days=3)
        await promise.get_by_label("Promised date").fill(promised.isoformat())
        await promise.get_by_role("button", name="Save").click()

        await expect(page.get_by_test_id("answer")).to_contain_text("promise to pay")
        await expect(page.get_by_test_id("state")).to_have_attribute("data-state", "promise")
        await expect(page.get_by_test_id("promise")).to_contain_text(promised.isoformat())
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "console-task-page.png"), full_page=True)
    finally:
        await context.close()

    assert await eventually(lambda: _state_is(stack, account, "promise"))
    recorded = await stack.pool.fetchrow(
        "SELECT actor, details FROM audit_events WHERE account_id = $1 AND kind = $2",
        account,
        "promise.recorded",
    )
    assert recorded is not None and recorded["actor"] == agent.username


async def _state_is(stack: Stack, account: str, state: str) -> bool:
    return await state_of(stack, account) == state

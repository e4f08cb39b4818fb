"""The borrower's page in a real browser (Chromium, a 360x740 phone): open the link from the
SMS the stack sent, pass the identity check, then promise, ask for a plan and stop SMS
(zh-CN), or report hardship and open a dispute with evidence files (en); each changes the
workflow's status. Then a supervisor sees the submissions on the task page and opens a file
(audited). Screenshots: test-artifacts/selfservice-*.png.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from overdue.store.console_users import Role
from tests.integration.conftest import Stack
from tests.integration.console.conftest import PASSWORD, make_user
from tests.integration.selfservice.support import (
    ID_LAST4,
    PDF,
    PNG,
    Linked,
    linked_account,
    status_of,
)
from tests.integration.support import customer_today, eventually

# The first test pays for the session stack's start (40 s on a loaded machine).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"width": 360, "height": 740}


async def _phone(browser: Browser, stack: Stack, locale: str) -> BrowserContext:
    return await browser.new_context(
        locale=locale, viewport=PHONE, base_url=stack.settings.api_url, is_mobile=True
    )


async def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"selfservice-{name}.png"), full_page=True)


async def _pass_check(page: Page, link: Linked, lang: str) -> None:
    await page.goto(link.path)
    await expect(page.locator("html")).to_have_attribute("lang", lang)
    await _shot(page, f"check-{lang}")
    await page.locator("#id_last4").fill("0000")
    await page.locator("form button").click()
    await expect(page.get_by_test_id("error")).to_be_visible()  # 4 attempts left
    await page.locator("#id_last4").fill(ID_LAST4)
    await page.locator("form button").click()
    await expect(page.get_by_test_id("balance")).to_have_text("500.00 CNY")


async def test_zh_borrower_promises_asks_for_a_plan_and_stops_sms(
    stack: Stack, browser: Browser
) -> None:
    link = await linked_account(stack, locale="zh-CN")
    assert "在线办理：http" in link.body and link.account not in link.body.split("：")[-1]  # noqa: RUF001
    context = await _phone(browser, stack, "zh-CN")
    page = await context.new_page()
    try:
        await _pass_check(page, link, "zh-CN")
        await expect(page.locator("h1").first).to_have_text("应还金额")
        no_scroll = await page.evaluate("document.documentElement.scrollWidth <= 360")
        assert no_scroll, "the page is wider than a 360-px phone"
        await _shot(page, "home-zh-CN")

        promised = customer_today() + timedelta(days=5)
        await page.locator("#amount").fill("100")
        await page.locator("#promised_date").fill(promised.isoformat())
        await page.locator("#promise button").click()
        await expect(page.get_by_test_id("thanks")).to_have_text("谢谢：已登记您的还款承诺。")  # noqa: RUF001
        status = await status_of(stack, link.account)
        assert status["state"] == "promise"
        assert status["promise"]["amount_minor"] == 10_000
        assert status["promise"]["promised_date"] == promised.isoformat()

        await page.locator("#plan summary").click()
        await page.locator("#instalments").select_option("3")
        await page.locator("#plan button").click()
        await expect(page.get_by_test_id("schedule").locator("tbody tr")).to_have_count(3)
        await _shot(page, "plan-zh-CN")
        await page.locator("#plan-explanation").fill("工资推迟发放")
        await page.get_by_role("button", name="提交申请").click()
        await expect(page.get_by_test_id("thanks")).to_contain_text("分期还款申请已提交审核")
        assert (await status_of(stack, link.account))["state"] == "hardship_review"
        await eventually(
            lambda: stack.pool.fetchval(
                "SELECT id FROM call_tasks WHERE account_id = $1 AND queue = 'specialist' "
                "AND stage_id LIKE 'plan_review%'",
                link.account,
            )
        )

        await page.locator("#contact summary").click()
        await page.locator("input[name=refuse_sms]").check()
        await page.locator("#contact button").click()
        await expect(page.get_by_test_id("thanks")).to_have_text("谢谢：已记录您的联系方式偏好。")  # noqa: RUF001
        status = await status_of(stack, link.account)
        assert status["preferences"]["refused_channels"] == ["sms"]
        await _shot(page, "done-zh-CN")
    finally:
        await context.close()


async def test_en_borrower_reports_hardship_and_disputes_with_evidence(
    stack: Stack, browser: Browser
) -> None:
    link = await linked_account(stack, locale="en")
    context = await _phone(browser, stack, "en")
    page = await context.new_page()
    try:
        await _pass_check(page, link, "en")
        await _shot(page, "home-en")

        hardship = page.locator("#hardship")
        await hardship.locator("summary").click()
        await hardship.locator("select[name=category]").select_option("income_loss")
        await hardship.locator("textarea").fill("I lost my job in November.")
        await hardship.locator("input[type=file]").set_input_files(
            [{"name": "letter.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        await hardship.get_by_role("button", name="Send").click()
        await expect(page.get_by_test_id("thanks")).to_contain_text("a specialist will review")
        assert (await status_of(stack, link.account))["state"] == "hardship_review"

        dispute = page.locator("#dispute")
        await dispute.locator("summary").click()
        await dispute.locator("select[name=category]").select_option("already_paid")
        await dispute.locator("textarea").fill("I paid this on the 1st; receipt attached.")
        await dispute.locator("input[type=file]").set_input_files(
            [{"name": "receipt.png", "mimeType": "image/png", "buffer": PNG}]
        )
        await dispute.get_by_role("button", name="Send").click()
        await expect(page.get_by_test_id("thanks")).to_contain_text("your dispute was received")
        status = await status_of(stack, link.account)
        assert status["state"] == "disputed"
        assert len(status["open_disputes"]) == 1
        assert status["open_disputes"][0].startswith("selfservice-")

        await page.locator("#contact summary").click()
        await page.locator("input[name=refuse_sms]").check()
        await page.locator("select[name=days]").select_option("weekdays")
        await page.locator("#start").fill("12:00")
        await page.locator("#end").fill("14:00")
        await page.locator("#contact button").click()
        await expect(page.get_by_test_id("thanks")).to_contain_text("contact preferences")
        prefs = (await status_of(stack, link.account))["preferences"]
        assert prefs["refused_channels"] == ["sms"] and len(prefs["inconvenient_times"]) == 1
        await _shot(page, "done-en")
    finally:
        await context.close()
    await _agent_sees_it(stack, browser, link)


async def _agent_sees_it(stack: Stack, browser: Browser, link: Linked) -> None:
    """A supervisor opens the account's review task: the submissions, the texts, the files."""
    supervisor = await make_user(stack, Role.SUPERVISOR)
    task_id = await eventually(
        lambda: stack.pool.fetchval(
            "SELECT id FROM call_tasks WHERE account_id = $1 AND queue = 'specialist'",
            link.account,
        )
    )
    context = await browser.new_context(locale="en", base_url=stack.settings.api_url)
    page = await context.new_page()
    try:
        await page.goto("/console/login")
        await page.get_by_label("Username").fill(supervisor.username)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.goto(f"/console/tasks/{task_id}")
        section = page.get_by_test_id("submissions")
        await expect(section.locator("li[data-kind=dispute]")).to_contain_text("already paid")
        await expect(section.get_by_test_id("submission-text")).to_have_count(2)
        await expect(section).to_contain_text("I lost my job in November.")
        await expect(section.get_by_test_id("evidence-link")).to_have_count(2)
        await section.scroll_into_view_if_needed()
        await _shot(page, "console-submissions")
        href = await section.locator("li[data-kind=dispute] a").first.get_attribute("href")
        assert href
        answer = await page.request.get(href)
        assert answer.status == 200 and answer.headers["content-type"] == "image/png"
        assert await answer.body() == PNG
        viewed = await stack.pool.fetchval(
            "SELECT count(*) FROM audit_events WHERE account_id = $1 "
            "AND kind = 'selfservice.evidence_viewed' AND actor = $2",
            link.account,
            supervisor.username,
        )
        assert viewed == 1
        anonymous = await browser.new_context(base_url=stack.settings.api_url)
        try:  # never served without a console session
            refused = await anonymous.request.get(href, max_redirects=0)
            assert refused.status == 303
        finally:
            await anonymous.close()
    finally:
        await context.close()

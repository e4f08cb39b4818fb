# ruff: noqa: RUF001 -- Chinese text uses full-width punctuation on purpose.
"""The supervisors' reports page in a real browser, in English and in Chinese: the planted
November (tests/integration/reports/planted.py) grouped by agent, the art. 66 note, the
charts drawn on the server as inline SVG, and a refused range answered in words. Screenshots:
test-artifacts/reports-en.png and test-artifacts/reports-zh-CN.png."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.integration.conftest import Stack
from tests.integration.console.conftest import PASSWORD, User
from tests.integration.reports.planted import plant

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"
NOVEMBER = "/console/reports?from=2026-11-01&to=2026-11-30&group=agent"


async def _login(
    page: Page, user: User, username_label: str, password_label: str, button: str
) -> None:
    await page.goto("/console/login")
    await page.get_by_label(username_label).fill(user.username)
    await page.get_by_label(password_label).fill(PASSWORD)
    await page.get_by_role("button", name=button).click()
    await expect(page.get_by_test_id("who")).to_contain_text(user.username)


async def test_reports_page_in_english_and_chinese(
    stack: Stack, browser: Browser, supervisor: User
) -> None:
    prefix = f"rp{uuid.uuid4().hex[:6]}-"
    await plant(stack.pool, prefix)
    for locale, labels in (
        ("en", ("Username", "Password", "Log in")),
        ("zh-CN", ("用户名", "密码", "登录")),
    ):
        context = await browser.new_context(
            locale=locale, base_url=stack.settings.api_url, viewport={"width": 1280, "height": 900}
        )
        page = await context.new_page()
        try:
            await _login(page, supervisor, *labels)
            await page.get_by_role("link", name="Reports" if locale == "en" else "报表").click()
            await expect(page.get_by_test_id("report-form")).to_be_visible()
            await page.goto(NOVEMBER)
            groups = page.get_by_test_id("report-groups")
            agent_a = groups.locator('tr[data-group="agent-a"]')
            agent_b = groups.locator('tr[data-group="agent-b"]')
            await expect(agent_a).to_contain_text("50.0%")  # right-party rate: 1 of 2 dials
            await expect(agent_a).to_contain_text("1 / 1 / 0")  # promises made / kept / broken
            await expect(agent_a).to_contain_text("400.00 CNY")  # recovered, beside quality
            await expect(agent_b).to_contain_text("1 / 0 / 1")
            await expect(page.get_by_test_id("chart-rates").locator("svg")).to_be_visible()
            await expect(page.get_by_test_id("chart-moves").locator("svg")).to_be_visible()
            moves = page.get_by_test_id("report-moves")
            await expect(moves.locator('tr[data-bucket="1-30"]')).to_contain_text("50.0%")
            opened = page.get_by_test_id("report-open")
            await expect(opened.locator('tr[data-item="dispute"]')).to_be_visible()
            note = page.get_by_test_id("art66")
            if locale == "en":
                await expect(note).to_contain_text("not judged on amounts recovered alone")
                await expect(groups).to_contain_text("Right-party rate")
            else:
                await expect(note).to_contain_text("不得仅以回收金额考核催收人员")
                await expect(groups).to_contain_text("本人接通率")
                await expect(page.get_by_test_id("chart-rates").locator("svg")).to_have_attribute(
                    "aria-label", "各组质量指标"
                )
                contacts = page.get_by_test_id("report-contacts")
                await expect(contacts.locator('tr[data-channel="sms"]').first).to_contain_text(
                    "短信"
                )
            shown = await page.locator("main").inner_text()
            for personal in ("张三", "+86", prefix):
                assert personal not in shown
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / f"reports-{locale}.png"), full_page=True)

            await page.goto("/console/reports?from=2026-11-30&to=2026-11-01&group=agent")
            error = page.get_by_test_id("report-error")
            if locale == "en":
                await expect(error).to_have_text(
                    "The range is reversed: 2026-11-01 is before 2026-11-30."
                )
            else:
                await expect(error).to_have_text("期间颠倒：2026-11-01 早于 2026-11-30。")
        finally:
            await context.close()


async def test_reports_page_is_for_supervisors_only(
    stack: Stack, browser: Browser, agent: User
) -> None:
    context = await browser.new_context(locale="en", base_url=stack.settings.api_url)
    page = await context.new_page()
    try:
        await _login(page, agent, "Username", "Password", "Log in")
        response = await page.goto(NOVEMBER)
        assert response is not None and response.status == 403
        assert await page.get_by_test_id("report-groups").count() == 0
    finally:
        await context.close()

# ruff: noqa: RUF001 -- Chinese text uses full-width punctuation on purpose.
"""The task page in Chinese, in a real browser: the domain's ids read as words.

An agent whose browser asks for zh-CN works a task without touching the language switch; the
stage, the task's status, the account's state, the contact history's channels and statuses and
the earlier outcomes are words from the zh_CN catalogue, and no raw id (`t3s_call`, `call_task`,
`task_created`, `promise.recorded`) is left in the page's visible text (the ids stay in data-*
attributes). The page's screenshot is test_task_page.py's (console-task-page-zh-CN.png).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Browser, expect

from tests.integration.conftest import Stack
from tests.integration.console.conftest import PASSWORD, User
from tests.integration.support import customer_today

pytestmark = pytest.mark.integration

RAW_IDS = ("t3s_call", "call_task", "task_created", "promise.recorded", "claimed", "active")


async def test_task_page_in_chinese_shows_words_not_ids(
    stack: Stack, browser: Browser, agent: User, specialist_task: tuple[str, int]
) -> None:
    _account, task_id = specialist_task
    context = await browser.new_context(
        locale="zh-CN", base_url=stack.settings.api_url, viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    try:
        await page.goto("/console/login")
        await page.get_by_label("用户名").fill(agent.username)
        await page.get_by_label("密码").fill(PASSWORD)
        await page.get_by_role("button", name="登录").click()
        await expect(page.get_by_test_id("who")).to_contain_text(f"{agent.username} · 坐席")
        await expect(page.get_by_test_id("queue")).to_have_text("专员队列（弱势客户）")

        await page.get_by_role("button", name="领取下一个任务").click()
        await expect(page).to_have_url(f"{stack.settings.api_url}/console/tasks/{task_id}")
        stage = page.get_by_test_id("stage")
        await expect(stage).to_have_text("流程开始后 3 秒：人工外呼")
        await expect(stage).to_have_attribute("data-stage", "t3s_call")  # the id, for support
        await expect(page.get_by_test_id("task-status")).to_have_text("处理中")
        await expect(page.get_by_test_id("state")).to_have_text("催收中")

        contacts = page.get_by_test_id("contacts")
        call_row = contacts.locator("tr", has=page.locator('[data-status="task_created"]'))
        await expect(call_row).to_contain_text("人工外呼")
        await expect(call_row).to_contain_text("已生成外呼任务")
        await expect(call_row).to_contain_text("流程开始后 3 秒")

        promise = page.get_by_test_id("form-promise")
        await promise.get_by_label("金额").fill("500.00")
        promised = customer_today() + timedelta(days=3)
        await promise.get_by_label("承诺日期").fill(promised.isoformat())
        await promise.get_by_role("button", name="保存").click()
        await expect(page.get_by_test_id("answer")).to_have_text("已完成。账户当前状态：承诺还款。")
        await expect(page.get_by_test_id("state")).to_have_text("承诺还款")
        outcome = page.get_by_test_id("outcomes").locator('[data-kind="promise.recorded"]')
        await expect(outcome).to_have_text("已记录承诺还款")
        row = page.get_by_test_id("outcomes").locator(
            "tr", has=page.locator('[data-kind="promise.recorded"]')
        )
        await expect(row).to_contain_text(f"金额：500.00 CNY；承诺日期：{promised.isoformat()}")

        shown = await page.locator("main").inner_text()
        left = [raw for raw in RAW_IDS if raw in shown]
        assert not left, f"raw ids on the zh-CN task page: {left}"
    finally:
        await context.close()

# ruff: noqa: RUF001 -- Chinese text uses full-width punctuation on purpose.
"""The task page's forbearance forms in a real browser, in English and in Chinese: an agent
asks for a payment holiday beyond the policy's limit (refused with the workflow's reason in the
agent's language; nothing changed, nothing audited), grants one within it (shown in the status
section), then ends it early (gone from the status, audited `forbearance.ended` with the task).
Screenshots: test-artifacts/console-forbearance-{en,zh-CN}.png, taken while the holiday runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.integration.conftest import Stack
from tests.integration.console.conftest import PASSWORD, User
from tests.integration.support import customer_today

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
AUDITED = (
    "SELECT kind, details FROM audit_events WHERE account_id = $1 AND kind LIKE 'forbearance.%'"
)


@dataclass(frozen=True)
class Words:
    """What the page says in one language (the zh_CN catalogue's words)."""

    lang: str
    username: str
    password: str
    log_in: str
    next_task: str
    holiday: str
    last_day: str
    save: str
    borrower_asked: str
    end_now: str
    refused: str  # {days} {latest}
    done: str
    until: str  # {day}
    granted: str  # the outcomes table's words for the audit kinds
    ended_early: str


EN = Words(
    "en",
    "Username",
    "Password",
    "Log in",
    "Next task",
    "payment holiday",
    "Freeze or holiday: last day",
    "Save",
    "the borrower asks to resume",
    "End now",
    "Not accepted: A payment holiday lasts at most {days} days (until {latest}).",
    "Done. The account is now: active.",
    "until {day}",
    "Forbearance granted",
    "Forbearance ended early",
)
ZH = Words(
    "zh-CN",
    "用户名",
    "密码",
    "登录",
    "领取下一个任务",
    "还款假期",
    "冻结或还款假期：最后一天",
    "保存",
    "借款人要求恢复",
    "立即结束",
    "未被接受：还款假期最长 {days} 天（至 {latest}）。",
    "已完成。账户当前状态：催收中。",
    "至 {day}",
    "已批准宽限",
    "宽限提前结束",
)


async def _sign_in_and_claim(page: Page, stack: Stack, agent: User, words: Words) -> None:
    await page.goto("/console/login")
    await page.get_by_label(words.username).fill(agent.username)
    await page.get_by_label(words.password).fill(PASSWORD)
    await page.get_by_role("button", name=words.log_in).click()
    await page.get_by_role("button", name=words.next_task).click()


async def _ask_holiday(page: Page, words: Words, until: str) -> None:
    form = page.get_by_test_id("form-forbearance")
    await form.get_by_role("radio", name=words.holiday, exact=True).check()
    await form.get_by_label(words.last_day).fill(until)
    await form.get_by_role("button", name=words.save).click()


@pytest.mark.parametrize("words", [EN, ZH], ids=["en", "zh-CN"])
async def test_an_agent_grants_and_ends_a_payment_holiday(
    stack: Stack,
    browser: Browser,
    agent: User,
    specialist_task: tuple[str, int],
    words: Words,
) -> None:
    account, task_id = specialist_task
    today = customer_today()
    context = await browser.new_context(
        locale=words.lang, base_url=stack.settings.api_url, viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    try:
        await _sign_in_and_claim(page, stack, agent, words)
        await expect(page).to_have_url(f"{stack.settings.api_url}/console/tasks/{task_id}")
        await expect(page.get_by_test_id("form-forbearance-end")).to_have_count(0)

        # 40 days: beyond the policy's 30 (tests/policies/fast.yaml). Refused, nothing changed.
        await _ask_holiday(page, words, str(today + timedelta(days=40)))
        latest = str(today + timedelta(days=30))
        answer = page.get_by_test_id("answer")
        await expect(answer).to_have_text(words.refused.format(days=30, latest=latest))
        await expect(page.get_by_test_id("forbearance-holiday")).to_have_count(0)
        assert await stack.pool.fetch(AUDITED, account) == []

        until = today + timedelta(days=10)
        await _ask_holiday(page, words, str(until))
        await expect(answer).to_have_text(words.done)
        held = page.get_by_test_id("forbearance-holiday")
        await expect(held).to_have_attribute("data-until", until.isoformat())
        await expect(held).to_contain_text(agent.username)
        ending = page.get_by_test_id("form-forbearance-end")
        await expect(ending).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"console-forbearance-{words.lang}.png"
        box = await ending.bounding_box()  # the page down to the end form: status and forms
        assert box is not None
        bottom = box["y"] + box["height"] + 16
        await page.screenshot(
            path=str(shot), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": bottom}
        )

        await ending.get_by_role("radio", name=words.holiday).check()
        await ending.locator("select[name=reason]").select_option(label=words.borrower_asked)
        await ending.get_by_role("button", name=words.end_now).click()
        await expect(answer).to_have_text(words.done)
        await expect(page.get_by_test_id("forbearance-holiday")).to_have_count(0)
        await expect(page.get_by_test_id("form-forbearance-end")).to_have_count(0)
        # Both are earlier outcomes on the task page, in words: no audit kind or code shows.
        page_again = await page.goto(f"/console/tasks/{task_id}")
        assert page_again is not None and page_again.ok
        for kind, said in (
            ("forbearance.granted", words.granted),
            ("forbearance.ended", words.ended_early),
        ):
            await expect(page.locator(f'td[data-kind="{kind}"]')).to_have_text(said)
        ended_row = page.locator("tr", has=page.locator('td[data-kind="forbearance.ended"]'))
        await expect(ended_row).to_contain_text(words.borrower_asked)
        await expect(ended_row).not_to_contain_text("borrower_asked")
    finally:
        await context.close()

    rows = await stack.pool.fetch(AUDITED, account)
    kinds = [row["kind"] for row in rows]
    assert sorted(kinds) == ["forbearance.ended", "forbearance.granted"]
    [ended] = [json.loads(row["details"]) for row in rows if row["kind"] == "forbearance.ended"]
    assert ended == {"task_id": task_id, "kind": "holiday", "reason": "borrower_asked"}
    status = (await stack.api.get(f"/v1/accounts/{account}")).json()
    assert status["forbearance"]["holiday"] is None

# ruff: noqa: RUF001 -- Chinese text uses full-width punctuation on purpose.
"""The mailroom in a real browser (Debian's Chromium), in English and in Chinese: a supervisor
finds a letter by account, downloads its PDF, marks it printed, then posted; every step is
audited with who. Screenshots: test-artifacts/mailroom-<lang>-<step>.png. Agents may not see
the page, and a mark without the session's CSRF token changes nothing."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from temporalio.testing import ActivityEnvironment

from activities.notify import NotifyActivities
from overdue.store import letters
from overdue.store.accounts import CustomerReport, store_account, store_customer
from overdue.store.console_users import Role
from tests.integration.conftest import Stack
from tests.integration.console.conftest import PASSWORD, User, csrf_of, logged_in, make_user
from tests.integration.side_effects.test_letters import letter_input
from workflows.letters import LenderContact, LetterPolicy

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"

LETTERS = LetterPolicy(
    lender={
        "zh-CN": LenderContact(name="示例消费金融有限公司", address="上海市黄浦区1号", phone="400"),
        "en": LenderContact(name="Example Credit", address="1 Bank Road", phone="400"),
    },
    texts={"zh-CN": "请尽快还款。", "en": "Please pay."},
)
# What the page says, per language: the letter's status words, the buttons, the answers.
WORDS = {
    "en": {
        "to_print": "to print",
        "printed": "printed",
        "sent": "posted",
        "mark printed": "Mark printed",
        "mark posted": "Mark posted",
        "download": "Download PDF",
        "now printed": "is now: printed.",
        "now posted": "is now: posted.",
        "heading": "Mailroom",
    },
    "zh-CN": {
        "to_print": "待打印",
        "printed": "已打印",
        "sent": "已寄出",
        "mark printed": "标记为已打印",
        "mark posted": "标记为已寄出",
        "download": "下载 PDF",
        "now printed": "现为：已打印。",
        "now posted": "现为：已寄出。",
        "heading": "邮寄室",
    },
}


async def letter_for_new_account(stack: Stack, locale: str) -> tuple[str, letters.Letter]:
    """An account whose letter stage made its letter (the activity, as the worker runs it)."""
    account = f"acct-{uuid.uuid4().hex[:10]}"
    async with stack.pool.acquire() as conn, conn.transaction():
        await store_account(conn, account, product="credit_card", currency="CNY")
        await store_customer(
            conn,
            account,
            CustomerReport(
                full_name="张伟" if locale == "zh-CN" else "Alexandra Montgomery",
                phone_e164="+8613800138000",
                time_zone="Asia/Shanghai",
                locale=locale,
                postal_address="上海市浦东新区世纪大道100号\n200120",
            ),
        )
    notice = letter_input(account, letters=LETTERS, default_locale="zh-CN")
    await ActivityEnvironment().run(NotifyActivities(stack.pool, None).send_notification, notice)
    letter = await letters.by_key(stack.pool, notice.idempotency_key)
    assert letter is not None
    return account, letter


async def log_in(page: Page, user: User, lang: str) -> None:
    await page.goto("/console/login")
    username, password, button = (
        ("用户名", "密码", "登录") if lang == "zh-CN" else ("Username", "Password", "Log in")
    )
    await page.get_by_label(username).fill(user.username)
    await page.get_by_label(password).fill(PASSWORD)
    await page.get_by_role("button", name=button).click()
    await expect(page.get_by_test_id("who")).to_contain_text(user.username)


@pytest.mark.parametrize(("lang", "role"), [("en", Role.MAILROOM), ("zh-CN", Role.SUPERVISOR)])
async def test_a_clerk_or_a_supervisor_downloads_prints_and_posts_a_letter(
    stack: Stack, browser: Browser, lang: str, role: Role
) -> None:
    """In English a mailroom clerk, whose login lands on the mailroom; in Chinese a supervisor."""
    clerk = await make_user(stack, role)
    account, letter = await letter_for_new_account(stack, lang)
    words = WORDS[lang]
    context = await browser.new_context(
        locale=lang,
        base_url=stack.settings.api_url,
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    page = await context.new_page()
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        await log_in(page, clerk, lang)
        if role is Role.MAILROOM:  # the mailroom is all a clerk sees
            await expect(page.locator("h1")).to_have_text(words["heading"])
            await expect(page.locator('nav a[href="/console"]')).to_have_count(0)
            await expect(page.locator('a[href^="/console/accounts/"]')).to_have_count(0)
        await page.get_by_test_id("nav-mailroom").click()
        await expect(page.locator("h1")).to_have_text(words["heading"])
        filters = page.get_by_test_id("letter-filters")
        await filters.locator("input[name=account]").fill(account)
        await filters.locator("button").click()
        row = page.locator(f'tr[data-letter="{letter.id}"]')
        await expect(row).to_have_attribute("data-status", "to_print")
        await expect(row).to_contain_text(letter.ref)
        await expect(row).to_contain_text(words["to_print"])
        await page.screenshot(path=str(ARTIFACTS / f"mailroom-{lang}-to-print.png"), full_page=True)

        async with page.expect_download() as waiting:
            await row.get_by_role("link", name=words["download"]).click()
        download = await waiting.value
        assert download.suggested_filename == f"letter-{letter.ref}.pdf"
        saved = ARTIFACTS / f"mailroom-{lang}-download.pdf"
        await download.save_as(saved)
        assert saved.read_bytes().startswith(b"%PDF-")

        await row.get_by_role("button", name=words["mark printed"]).click()
        await expect(page.get_by_test_id("answer")).to_contain_text(words["now printed"])
        # The answer shows the letters still to print; the printed one is under "printed".
        await expect(page.locator(f'tr[data-letter="{letter.id}"]')).to_have_count(0)
        await page.get_by_test_id("letter-tabs").locator('a[data-status="printed"]').click()
        printed_row = page.locator(f'tr[data-letter="{letter.id}"]')
        await expect(printed_row).to_have_attribute("data-status", "printed")
        await page.screenshot(path=str(ARTIFACTS / f"mailroom-{lang}-printed.png"), full_page=True)

        await printed_row.get_by_role("button", name=words["mark posted"]).click()
        await expect(page.get_by_test_id("answer")).to_contain_text(words["now posted"])
        await page.goto(f"/console/mailroom?status=sent&account={account}")
        sent_row = page.locator(f'tr[data-letter="{letter.id}"]')
        await expect(sent_row).to_contain_text(words["sent"])
        await expect(sent_row).to_contain_text(clerk.username)
        await page.screenshot(path=str(ARTIFACTS / f"mailroom-{lang}-posted.png"), full_page=True)
    finally:
        await context.close()

    audited = await stack.pool.fetch(
        "SELECT actor, kind FROM audit_events WHERE account_id = $1 ORDER BY id", account
    )
    assert [(a["actor"], a["kind"]) for a in audited] == [
        ("system", "letter.rendered"),
        (clerk.username, "letter.downloaded"),
        (clerk.username, "letter.printed"),
        (clerk.username, "letter.sent"),
    ]


async def test_agents_may_not_open_the_mailroom_and_marks_need_the_csrf_token(
    stack: Stack, agent: User, supervisor: User
) -> None:
    _account, letter = await letter_for_new_account(stack, "en")
    async with logged_in(stack, agent) as as_agent:
        for path in ("/console/mailroom", f"/console/mailroom/{letter.id}/pdf"):
            assert (await as_agent.get(path)).status_code == 403
    async with logged_in(stack, supervisor) as as_supervisor:
        forged = await as_supervisor.post(
            f"/console/mailroom/{letter.id}/printed", data={"csrf_token": "not-the-token"}
        )
        assert forged.status_code == 403
        page = await as_supervisor.get("/console/mailroom")
        assert (await as_supervisor.get("/console/mailroom/999999999/pdf")).status_code == 404
        marked = await as_supervisor.post(
            f"/console/mailroom/{letter.id}/printed", data={"csrf_token": csrf_of(page)}
        )
        assert marked.status_code == 200
        again = await as_supervisor.post(
            f"/console/mailroom/{letter.id}/printed", data={"csrf_token": csrf_of(page)}
        )
        assert again.status_code == 409  # already printed: nothing changes
        pdf = await as_supervisor.get(f"/console/mailroom/{letter.id}/pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        assert (
            pdf.headers["content-disposition"] == f'attachment; filename="letter-{letter.ref}.pdf"'
        )
        assert pdf.headers["cache-control"] == "no-store"
    after = await letters.by_id(stack.pool, letter.id)
    assert after is not None and (after.status, after.printed_by) == (
        "printed",
        supervisor.username,
    )


async def test_a_mailroom_clerk_sees_the_mailroom_and_no_account_s_tasks(
    stack: Stack, specialist_task: tuple[str, int]
) -> None:
    _account, task_id = specialist_task
    clerk = await make_user(stack, Role.MAILROOM)
    async with logged_in(stack, clerk) as as_clerk:
        home = await as_clerk.get("/console")
        assert home.status_code == 303 and home.headers["location"] == "/console/mailroom"
        mailroom = await as_clerk.get("/console/mailroom")
        assert mailroom.status_code == 200
        for path in (
            f"/console/tasks/{task_id}",
            "/console/escalations",
            "/console/reports",
            f"/console/tasks/{task_id}/evidence/1",
        ):
            assert (await as_clerk.get(path)).status_code == 403, path
        claimed = await as_clerk.post("/console/tasks/next", data={"csrf_token": csrf_of(mailroom)})
        assert claimed.status_code == 403
    assert await stack.pool.fetchval(
        "SELECT claimed_by IS NULL FROM call_tasks WHERE id = $1", task_id
    )

"""The one-time code in a real browser (Chromium, a 360x740 phone), zh-CN and en: the link of
an account without `id_last4` → "send me a code" → the code as the provider got it → the
page of what is owed. Screenshots: test-artifacts/selfservice-code-{en,zh-CN}.png.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.integration.conftest import Stack
from tests.integration.selfservice.code_support import code_account, code_in, code_messages
from tests.integration.selfservice.test_browser import PHONE, _shot
from tests.integration.support import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

HEADINGS = {"en": "What you owe", "zh-CN": "应还金额"}
SEND = {"en": "Send me a code by SMS", "zh-CN": "通过短信发送验证码"}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_a_borrower_passes_the_check_with_a_code_by_sms(
    stack: Stack, browser: Browser, lang: str
) -> None:
    link = await code_account(stack, locale=lang)
    context = await browser.new_context(
        locale=lang, viewport=PHONE, base_url=stack.settings.api_url, is_mobile=True
    )
    page = await context.new_page()
    try:
        await page.goto(link.path)
        await expect(page.locator("html")).to_have_attribute("lang", lang)
        await expect(page.locator("#id_last4")).to_have_count(0)
        await page.get_by_role("button", name=SEND[lang]).click()
        await expect(page.get_by_test_id("note")).to_be_visible()

        async def sent() -> str | None:
            bodies = code_messages(stack, link.account)
            return bodies[0] if bodies else None

        body = await eventually(sent)
        code = code_in(body)
        assert ("验证码" in body) == (lang == "zh-CN")
        await page.locator("#code").fill(code)
        no_scroll = await page.evaluate("document.documentElement.scrollWidth <= 360")
        assert no_scroll, "the page is wider than a 360-px phone"
        await _shot(page, f"code-{lang}")
        await page.locator(f'form[action="{link.path}/code"] button').click()
        await expect(page.locator("h1").first).to_have_text(HEADINGS[lang])
        await expect(page.get_by_test_id("balance")).to_have_text("500.00 CNY")
        assert len(code_messages(stack, link.account)) == 1
    finally:
        await context.close()

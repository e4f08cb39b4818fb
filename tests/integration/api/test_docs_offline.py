"""/docs in a real browser (Debian's Chromium through Playwright) with no network but the API:
Swagger UI's assets come from the API itself (the pinned `fastapi-offline` package), so the
page renders with every operation even where no CDN is reachable."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Route, expect

from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration


async def test_the_api_docs_render_offline(stack: Stack, browser: Browser) -> None:
    api = urlsplit(stack.settings.api_url).netloc
    elsewhere: list[str] = []

    async def offline(route: Route) -> None:
        if urlsplit(route.request.url).netloc == api:
            await route.continue_()
        else:  # as if this machine had no network: any other host is unreachable
            elsewhere.append(route.request.url)
            await route.abort("internetdisconnected")

    context = await browser.new_context(base_url=stack.settings.api_url)
    await context.route("**/*", offline)
    page = await context.new_page()
    try:
        await page.goto("/docs")
        await expect(page.locator(".swagger-ui .info .title")).to_contain_text(
            "overdue-reminders API"
        )
        await expect(page.locator(".opblock").first).to_be_visible()
        assert await page.locator(".opblock").count() >= 10  # every operation is listed
    finally:
        await context.close()
    assert elsewhere == [], f"/docs reached for {elsewhere}"

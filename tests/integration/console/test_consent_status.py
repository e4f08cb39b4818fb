"""The console's account page shows consent per channel: each channel recorded (granted or
withdrawn, its source and when), in both languages."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Stack
from tests.integration.console.conftest import User, logged_in
from tests.integration.support import eventually, start_account

pytestmark = pytest.mark.integration


async def test_the_account_page_shows_consent_per_channel(stack: Stack, supervisor: User) -> None:
    given = "2026-01-05T09:00:00+08:00"
    account = await start_account(
        stack, consents=[{"channel": "sms", "source": "contract", "given_at": given}]
    )
    withdraw = {
        "change_id": "w-1",
        "channel": "sms",
        "action": "withdraw",
        "source": "agent_recorded",
        "at": "2026-01-06T09:00:00+08:00",
    }
    assert (await stack.api.post(f"/v1/accounts/{account}/consents", json=withdraw)).is_success
    async with logged_in(stack, supervisor) as browser:

        async def shown() -> str | None:
            page = await browser.get(f"/console/accounts/{account}")
            return page.text if "SMS: withdrawn (told an agent," in page.text else None

        text = await eventually(shown)
        assert 'data-testid="consent-sms"' in text and "Consent per channel" in text
        chinese = await browser.get(
            f"/console/accounts/{account}", headers={"Accept-Language": "zh-CN"}
        )
        assert "短信: 已撤回 (客户告知坐席," in chinese.text  # channel and source in words

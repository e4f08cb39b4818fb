"""A console login with a control character in the user name is a failed login, not a 500
(Postgres refuses NUL in text)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Stack
from tests.integration.console.conftest import PASSWORD, User, anonymous, csrf_of

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("suffix", ["\x00", "\x1b[2J", "\x85"])
async def test_a_user_name_with_a_control_character_fails_to_log_in(
    stack: Stack, agent: User, suffix: str
) -> None:
    async with anonymous(stack) as browser:
        form = await browser.get("/console/login")
        answer = await browser.post(
            "/console/login",
            data={
                "username": agent.username + suffix,
                "password": PASSWORD,
                "csrf_token": csrf_of(form),
            },
        )
    assert answer.status_code == 401
    assert "overdue_session=" not in answer.headers.get("set-cookie", "")

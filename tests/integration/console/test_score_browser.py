"""A scored account's risk score and reasons on the agent's task page, in a real browser
(PIPL art. 24: the agent can say why the account is treated as it is). A screenshot of the
score card is kept in test-artifacts/."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from overdue.scoring.model import RiskModel
from tests.integration.api.test_risk_scores import active, trained
from tests.integration.conftest import Stack
from tests.integration.console.conftest import PASSWORD, User, only_specialist_task
from tests.integration.support import NAME, customer_today

pytestmark = pytest.mark.integration
__all__ = ["active", "trained"]  # the fixtures this module uses

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


async def test_the_task_page_shows_the_score_and_its_reasons(
    stack: Stack, browser: Browser, agent: User, active: RiskModel
) -> None:
    account, task_id = await only_specialist_task(
        stack,
        due_date=(customer_today() - timedelta(days=400)).isoformat(),
        amount_due={"amount_minor": 90_000_000, "currency": "CNY"},
    )
    context = await browser.new_context(locale="en", base_url=stack.settings.api_url)
    page = await context.new_page()
    try:
        await page.goto("/console/login")
        await page.get_by_label("Username").fill(agent.username)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.get_by_role("button", name="Next task").click()
        await expect(page).to_have_url(f"{stack.settings.api_url}/console/tasks/{task_id}")

        card = page.get_by_test_id("score")
        await expect(card.get_by_test_id("risk-segment")).to_have_attribute("data-segment", "high")
        await expect(card.get_by_test_id("risk-segment")).to_have_text("high risk")
        await expect(card.get_by_test_id("model-version")).to_contain_text(active.version)
        first = card.get_by_test_id("score-reasons").locator("li").first
        await expect(first).to_have_attribute("data-feature", "days_past_due")
        await expect(first).to_have_attribute("data-direction", "lowers")
        await expect(first).to_contain_text("days past due = 400")
        await expect(first).to_contain_text("lowers the propensity to pay")
        await expect(card.get_by_test_id("score-reasons").locator("li")).to_have_count(3)
        assert NAME not in await card.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        await card.screenshot(path=str(ARTIFACTS / "console-risk-score.png"))

        await page.get_by_role("link", name="中文").click()
        await expect(card.get_by_test_id("risk-segment")).to_have_text("高风险")
        await expect(first).to_contain_text("降低还款可能性")
    finally:
        await context.close()
    assert account

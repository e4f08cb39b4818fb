"""The simulation's HTML report in a real browser (Debian's Chromium through Playwright, the
`browser` fixture of tests/integration/conftest.py): a comparison of the default policy with
one more SMS stage renders its tables and charts from the file alone (no network), and a
screenshot is kept in test-artifacts/strategy-simulate-report.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from overdue.strategy.portfolio import synthetic
from overdue.strategy.report_data import compare, summarize
from overdue.strategy.runner import simulate
from tests.overdue.strategy.support import START, default_policy, setup, with_day5_sms
from workers.ops.simulation import write

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"


async def test_the_comparison_report_renders_offline(browser: Browser, tmp_path: Path) -> None:
    accounts = synthetic(400, 8, START.date())
    runs = []
    for policy in (default_policy(), with_day5_sms(default_policy())):
        chosen = setup(policy)
        sources = {
            "portfolio": "synthetic 400 (seed 8)",
            "behaviour_model": "strategy/behaviour.yaml",
        }
        runs.append(summarize(simulate(chosen, accounts, workers=2), chosen, sources))
    write(compare(*runs), tmp_path)

    context = await browser.new_context(offline=True, viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    try:
        await page.goto((tmp_path / "report.html").as_uri())
        await expect(page.locator("h1")).to_have_text(
            "Portfolio simulation: default v4 vs default-d5 v4"
        )
        totals = page.locator("#totals")
        await expect(
            totals.locator("tr", has_text="stage: d5_sms").locator("td.up")
        ).to_be_visible()
        await expect(page.locator(".verdict.ok")).to_have_count(2)
        await expect(page.locator(".verdict.bad")).to_have_count(0)
        charts = page.locator(".charts svg")
        await expect(charts).to_have_count(12)
        box = await charts.first.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 150
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "strategy-simulate-report.png"), full_page=True)
    finally:
        await context.close()
    assert fetched == [(tmp_path / "report.html").as_uri()]  # the page alone, nothing else

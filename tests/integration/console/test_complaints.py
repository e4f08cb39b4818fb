"""Complaints resolved by a supervisor on the account page (overdue/store/complaints.py): in a
real browser, then the refusals over HTTP, and the reports' open complaints."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, expect

from overdue.reports import ReportRequest, build_report, report_json, rules_from
from overdue.store.audit import record_event
from overdue.store.complaints import complaints_of
from tests.integration.conftest import Stack
from tests.integration.console.conftest import User, csrf_of, logged_in
from tests.integration.console.test_mailroom import log_in
from tests.integration.support import start_account

pytestmark = pytest.mark.integration

NOTE = "Called back, explained the fee and refunded it"


async def _complaint(stack: Stack, account: str) -> int:
    """A complaint as the console records it: a call outcome `complaint`."""
    return await record_event(
        stack.pool, account_id=account, actor="agent-x", kind="call.outcome",
        details={"outcome": "complaint"},
    )  # fmt: skip


async def test_a_supervisor_resolves_a_complaint_in_the_browser(
    stack: Stack, browser: Browser, supervisor: User
) -> None:
    account = await start_account(stack)
    complaint = await _complaint(stack, account)
    context = await browser.new_context(locale="en", base_url=stack.settings.api_url)
    page = await context.new_page()
    try:
        await log_in(page, supervisor, "en")
        await page.goto(f"/console/accounts/{account}")
        row = page.locator(f'tr[data-complaint="{complaint}"]')
        await expect(row).to_have_attribute("data-status", "open")
        await expect(row).to_contain_text("Open for 0 days")
        form = page.get_by_test_id(f"resolve-complaint-{complaint}")
        await form.locator("select[name=outcome]").select_option("partly_upheld")
        await form.locator("textarea[name=note]").fill(NOTE)
        await form.get_by_role("button", name="Resolve").click()
        await expect(page.get_by_test_id("answer")).to_have_text("Complaint resolved.")
        row = page.locator(f'tr[data-complaint="{complaint}"]')
        await expect(row).to_have_attribute("data-status", "resolved")
        await expect(row).to_contain_text(f"Resolved: partly upheld, by {supervisor.username}")
        # The timeline shows the resolution with its note, joined back from the sealed text.
        timeline = page.get_by_test_id("timeline")
        await expect(timeline.locator('td[data-kind="complaint.resolved"]')).to_have_text(
            "Complaint resolved"
        )
        await expect(timeline).to_contain_text(NOTE)
    finally:
        await context.close()
    stored = await stack.pool.fetchval(
        "SELECT text FROM free_texts WHERE account_id = $1 AND kind = 'complaint.resolution'",
        account,
    )
    assert stored is not None and NOTE not in stored  # sealed


async def test_a_resolution_is_checked_made_once_and_only_for_the_account(
    stack: Stack, supervisor: User, agent: User
) -> None:
    account, other = await start_account(stack), await start_account(stack)
    complaint = await _complaint(stack, account)
    resolve = f"/console/accounts/{account}/complaints/{complaint}/resolve"
    async with logged_in(stack, agent) as as_agent:
        page = await as_agent.get("/console")
        form = {"csrf_token": csrf_of(page), "outcome": "upheld", "note": NOTE}
        assert (await as_agent.post(resolve, data=form)).status_code == 403
    async with logged_in(stack, supervisor) as as_supervisor:
        token = csrf_of(await as_supervisor.get(f"/console/accounts/{account}"))
        for bad, said in (
            ({"outcome": "maybe", "note": NOTE}, "Choose what came of the complaint."),
            ({"outcome": "upheld", "note": "   "}, "Write what was done about the complaint."),
            ({"outcome": "upheld", "note": "x" * 2001}, "at most 2000 characters"),
            ({"outcome": "upheld", "note": "bell\x07"}, "plain text"),
        ):
            answer = await as_supervisor.post(resolve, data={"csrf_token": token, **bad})
            assert answer.status_code == 422 and said in answer.text, bad
        elsewhere = f"/console/accounts/{other}/complaints/{complaint}/resolve"
        good = {"csrf_token": token, "outcome": "not_upheld", "note": NOTE}
        assert (await as_supervisor.post(elsewhere, data=good)).status_code == 409
        assert (await as_supervisor.post(resolve, data=good)).status_code == 200
        again = await as_supervisor.post(resolve, data=good)
        assert again.status_code == 409 and "not open" in again.text
    (found,) = await complaints_of(stack.pool, account)
    assert (found.id, found.outcome, found.resolved_by) == (
        complaint,
        "not_upheld",
        supervisor.username,
    )
    resolutions = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE kind = 'complaint.resolved' AND account_id = $1",
        account,
    )
    assert resolutions == 1


async def test_reports_count_a_complaint_open_until_it_is_resolved(
    stack: Stack, supervisor: User
) -> None:
    account = await start_account(stack)
    agent = f"agent-{uuid.uuid4().hex[:6]}"
    complaint = await record_event(
        stack.pool, account_id=account, actor=agent, kind="call.outcome",
        details={"outcome": "complaint"},
    )  # fmt: skip

    async def open_complaints() -> int:
        today = datetime.now(ZoneInfo(stack.settings.report_time_zone)).date().isoformat()
        request = ReportRequest.parse(today, today, "agent")
        report = report_json(await build_report(stack.pool, request, rules_from(stack.settings)))
        group = report["groups"].get(agent, {})
        return int(group.get("open", {}).get("complaint", {}).get("open", 0))

    assert await open_complaints() == 1
    async with logged_in(stack, supervisor) as as_supervisor:
        token = csrf_of(await as_supervisor.get(f"/console/accounts/{account}"))
        answer = await as_supervisor.post(
            f"/console/accounts/{account}/complaints/{complaint}/resolve",
            data={"csrf_token": token, "outcome": "withdrawn", "note": NOTE},
        )
        assert answer.status_code == 200
    assert await open_complaints() == 0

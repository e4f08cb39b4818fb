"""Ending a holiday or a freeze early through the backend API, on the real stack: refused with
the workflow's reason and nothing changed (no audit row, no note kept) while none is running;
accepted, the period is gone from the status, audited `forbearance.ended` once, and a freeze's
end is reported to the backend through the notify webhook once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.integration.conftest import Stack
from tests.integration.support import (
    assert_problem,
    customer_today,
    eventually,
    start_account,
)

pytestmark = pytest.mark.integration
AUDITED = "SELECT count(*) FROM audit_events WHERE account_id = $1 AND kind = 'forbearance.ended'"
TEXTS = "SELECT count(*) FROM free_texts WHERE account_id = $1"


async def _count(stack: Stack, sql: str, *args: Any) -> int:
    count: int = await stack.pool.fetchval(sql, *args)
    return count


async def test_ending_nothing_is_refused_and_changes_nothing(stack: Stack) -> None:
    account = await start_account(stack)
    url = f"/v1/accounts/{account}/forbearance/end"
    body = {"kind": "holiday", "reason": "borrower_asked", "note": "she found work"}
    refused = await stack.api.post(url, json=body)
    assert_problem(refused, 409)
    assert "no payment holiday is running on this account" in refused.text
    assert await _count(stack, AUDITED, account) == 0
    assert await _count(stack, TEXTS, account) == 0  # the note was not kept
    for wrong in (
        {**body, "kind": "settlement"},
        {**body, "reason": "because"},
        {"kind": "freeze"},
        {**body, "extra": 1},
    ):
        assert_problem(await stack.api.post(url, json=wrong), 422)
    missing = await stack.api.post("/v1/accounts/nobody-here/forbearance/end", json=body)
    assert_problem(missing, 404)


async def test_a_holiday_and_a_freeze_end_early_once(stack: Stack) -> None:
    account = await start_account(stack)
    today = customer_today()
    grant = f"/v1/accounts/{account}/forbearance"
    for kind in ("holiday", "freeze"):
        until = str(today + timedelta(days=20))
        answer = await stack.api.post(grant, json={"kind": kind, "until": until})
        assert answer.status_code == 200, answer.text

    url = f"/v1/accounts/{account}/forbearance/end"
    ended = await stack.api.post(url, json={"kind": "holiday", "reason": "borrower_asked"})
    assert ended.status_code == 200, ended.text
    assert ended.json()["kind"] == "holiday"
    assert ended.json()["forbearance"]["holiday"] is None
    assert ended.json()["forbearance"]["freeze"] is not None
    body = {"kind": "freeze", "reason": "granted_in_error", "note": "wrong account"}
    ended = await stack.api.post(url, json=body)
    assert ended.status_code == 200, ended.text
    assert ended.json()["forbearance"]["freeze"] is None
    again = await stack.api.post(url, json=body)
    assert_problem(again, 409)
    assert "no freeze of interest and fees is running" in again.text

    assert await _count(stack, AUDITED, account) == 2
    details = await stack.pool.fetch(
        "SELECT details FROM audit_events WHERE account_id = $1 AND kind = 'forbearance.ended' "
        "ORDER BY id",
        account,
    )
    assert ['"holiday"' in d["details"] for d in details] == [True, False]
    status = (await stack.api.get(f"/v1/accounts/{account}")).json()
    assert status["forbearance"]["holiday"] is None and status["forbearance"]["freeze"] is None
    notices = (
        "SELECT count(*) FROM contact_ledger WHERE account_id = $1 AND channel = 'notify' "
        "AND stage_id LIKE $2"
    )

    async def reported() -> bool:
        return await _count(stack, notices, account, "forbearance_freeze_end_%") == 1

    await eventually(reported)
    assert await _count(stack, notices, account, "forbearance_freeze_%") == 2  # grant, end

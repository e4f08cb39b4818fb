"""The timeline (audit trail and contacts, newest first, by cursor) and the visibility list."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Stack
from tests.integration.support import assert_problem, eventually, start_account
from workflows.names import workflow_id

pytestmark = pytest.mark.integration


async def test_timeline_pages_cover_everything_newest_first(stack: Stack) -> None:
    account = await start_account(stack)
    url = f"/v1/accounts/{account}"
    await stack.api.post(f"{url}/disputes", json={"dispute_id": "D-1", "reason": "amount"})
    await stack.api.post(f"{url}/disputes/D-1/close", json={"resolution": "withdrawn"})

    async def full() -> list[dict[str, Any]] | None:  # the SMS and call task arrive in seconds
        entries: list[dict[str, Any]] = (await stack.api.get(f"{url}/timeline")).json()["entries"]
        kinds = {e["kind"] for e in entries}
        return entries if {"contact.sms", "contact.call_task"} <= kinds else None

    everything = await eventually(full)
    assert [e["at"] for e in everything] == sorted((e["at"] for e in everything), reverse=True)
    kinds = [e["kind"] for e in everything]
    assert (
        kinds.index("dispute.closed")
        < kinds.index("dispute.opened")
        < kinds.index("process.started")
    )
    contact = next(e for e in everything if e["kind"] == "contact.sms")
    assert contact["source"] == "contact" and "body" not in contact["details"]

    # Later entries (delivery receipts, the call task's audit) may still arrive while we page:
    # compare the pages with a whole timeline that did not change while they were read.
    async def paged_while_still() -> list[tuple[str, int]] | None:
        before = await whole_timeline(stack, url)
        paged = await timeline_in_pages(stack, url, limit=2)
        after = await whole_timeline(stack, url)
        if before != after:
            return None
        assert paged == after
        return paged

    paged = await eventually(paged_while_still)
    assert set(paged) >= {(e["source"], e["id"]) for e in everything}
    assert_problem(await stack.api.get(f"{url}/timeline", params={"cursor": "garbage"}), 422)
    assert_problem(await stack.api.get("/v1/accounts/never-seen/timeline"), 404)


async def whole_timeline(stack: Stack, url: str) -> list[tuple[str, int]]:
    answer = await stack.api.get(f"{url}/timeline", params={"limit": 200})
    assert answer.status_code == 200, answer.text
    return [(e["source"], e["id"]) for e in answer.json()["entries"]]


async def timeline_in_pages(stack: Stack, url: str, limit: int) -> list[tuple[str, int]]:
    paged: list[tuple[str, int]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = (await stack.api.get(f"{url}/timeline", params=params)).json()
        paged.extend((e["source"], e["id"]) for e in page["entries"])
        cursor = page["next_cursor"]
        if cursor is None:
            return paged


async def test_list_filters_on_search_attributes(stack: Stack) -> None:
    account = await start_account(stack)
    await stack.api.post(
        f"/v1/accounts/{account}/disputes", json={"dispute_id": "D-1", "reason": "amount"}
    )

    async def listed() -> dict[str, Any] | None:
        page = await stack.api.get("/v1/accounts", params={"state": "disputed", "page_size": 100})
        assert page.status_code == 200, page.text
        found = [a for a in page.json()["accounts"] if a["account_id"] == account]
        return found[0] if found else None

    summary = await eventually(listed)
    assert summary["workflow_id"] == workflow_id(account)
    assert summary["execution_status"] == "running"
    assert summary["product"] == "credit_line"
    none = await stack.api.get(
        "/v1/accounts", params={"state": "disputed", "min_days_past_due": 99999}
    )
    assert none.json()["accounts"] == []
    # Due two days ago: days past due counted from the DueDate the start set (no upsert a day).
    assert summary["days_past_due"] == 2
    due = await stack.api.get("/v1/accounts", params={"state": "disputed", "min_days_past_due": 2})
    assert account in [a["account_id"] for a in due.json()["accounts"]]
    not_yet = await stack.api.get(
        "/v1/accounts", params={"state": "disputed", "min_days_past_due": 3}
    )
    assert account not in [a["account_id"] for a in not_yet.json()["accounts"]]

    # Paging needs two accounts whatever ran before (the order is random): make a second one.
    other = await start_account(stack)

    async def both_listed() -> bool:
        for one in (account, other):
            status = await stack.api.get(f"/v1/accounts/{one}")
            if status.status_code != 200:
                return False
        page = await stack.api.get("/v1/accounts", params={"page_size": 2})
        return len(page.json()["accounts"]) == 2

    await eventually(both_listed)
    first = (await stack.api.get("/v1/accounts", params={"page_size": 1})).json()
    assert len(first["accounts"]) == 1 and first["next_cursor"]
    second = await stack.api.get(
        "/v1/accounts", params={"page_size": 1, "cursor": first["next_cursor"]}
    )
    assert second.status_code == 200
    assert second.json()["accounts"][0]["workflow_id"] != first["accounts"][0]["workflow_id"]
    assert_problem(await stack.api.get("/v1/accounts", params={"stage": "Bad Stage"}), 422)

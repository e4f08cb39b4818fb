"""The borrower asks for other arrangements (a settlement, a freeze, a holiday) on the page:
the workflow gets one request, a specialist gets a review task, and a form without a choice
or sent twice changes nothing more."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Stack
from tests.integration.selfservice.support import (
    fields,
    footprint,
    linked_account,
    passed_check,
    status_of,
)
from tests.integration.support import eventually

pytestmark = pytest.mark.integration


async def test_a_settlement_request_reaches_a_specialist_once(stack: Stack) -> None:
    link = await linked_account(stack)
    async with passed_check(stack, link) as borrower:
        home = await borrower.get(link.path)
        assert 'action="' + link.path + '/forbearance"' in home.text
        form = {
            "kind": "settlement",
            "explanation": "I can pay 60% now",
            **fields(home, f"{link.path}/forbearance"),
        }
        sent = await borrower.post(f"{link.path}/forbearance", data=form)
        assert sent.status_code == 303 and sent.headers["location"].endswith("?done=forbearance")
        again = await borrower.post(f"{link.path}/forbearance", data=form)
        assert again.headers["location"].endswith("?done=again")

    async def pending() -> list[dict[str, object]] | None:
        forbearance = (await status_of(stack, link.account))["forbearance"]
        return forbearance["pending"] if forbearance and forbearance["pending"] else None

    [request] = await eventually(pending)
    assert request["kind"] == "settlement"

    async def review_tasks() -> list[str] | None:
        rows = await stack.pool.fetch(
            "SELECT stage_id FROM call_tasks WHERE account_id = $1 AND stage_id LIKE '%review%'",
            link.account,
        )
        return [r["stage_id"] for r in rows] or None

    assert len(await eventually(review_tasks)) == 1
    kinds = await stack.pool.fetch(
        "SELECT details->>'kind' AS kind FROM audit_events"
        " WHERE account_id = $1 AND kind = 'selfservice.forbearance_requested'",
        link.account,
    )
    assert [r["kind"] for r in kinds] == ["settlement"]


async def test_a_request_without_a_choice_is_refused_and_changes_nothing(stack: Stack) -> None:
    link = await linked_account(stack)
    async with passed_check(stack, link) as borrower:
        home = await borrower.get(link.path)
        before = await footprint(stack, link.account)
        answer = await borrower.post(
            f"{link.path}/forbearance",
            data={"kind": "write_everything_off", **fields(home, f"{link.path}/forbearance")},
        )
        assert answer.status_code == 422
        assert "Please choose what you would like to ask for." in answer.text
        assert await footprint(stack, link.account) == before

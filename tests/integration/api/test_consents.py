"""Consent through the API: a start request carries consents, `POST .../consents` records a
grant or a withdrawal (history, audit, the process's signal), `GET .../consents` lists the
history in order; bad input is answered precisely and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from overdue.store import consents
from tests.integration.api.test_faults import assert_unavailable, timed
from tests.integration.conftest import Stack
from tests.integration.support import (
    assert_problem,
    eventually,
    new_account,
    overdue_body,
    start_account,
)

pytestmark = pytest.mark.integration

SIGNED = "2026-01-05T09:00:00+08:00"


def iso(at: datetime) -> str:
    return at.isoformat()


async def _history(stack: Stack, account: str) -> list[dict[str, Any]]:
    answer = await stack.api.get(f"/v1/accounts/{account}/consents")
    assert answer.status_code == 200, answer.text
    changes: list[dict[str, Any]] = answer.json()["changes"]
    return changes


async def _audited(stack: Stack, account: str) -> list[str]:
    rows = await stack.pool.fetch(
        "SELECT kind FROM audit_events WHERE account_id = $1 AND kind LIKE 'consent.%' ORDER BY id",
        account,
    )
    return [r["kind"] for r in rows]


async def test_consents_from_the_start_and_changes_after_it_are_history_in_order(
    stack: Stack,
) -> None:
    consents = [
        {"channel": "sms", "source": "contract", "given_at": SIGNED},
        {"channel": "call", "source": "app_settings", "given_at": SIGNED},
    ]
    account = await start_account(stack, consents=consents)
    status = (await stack.api.get(f"/v1/accounts/{account}")).json()
    assert status["consents"]["sms"]["granted"] is True
    assert status["consents"]["call"]["source"] == "app_settings"
    assert await _audited(stack, account) == ["consent.granted", "consent.granted"]

    url = f"/v1/accounts/{account}/consents"
    withdrawn_at = datetime.now(UTC) - timedelta(minutes=1)
    withdraw = {
        "change_id": "chg-1",
        "channel": "sms",
        "action": "withdraw",
        "source": "app_settings",
        "at": iso(withdrawn_at),
    }
    answer = await stack.api.post(url, json=withdraw)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {
        "account_id": account,
        "change_id": "chg-1",
        "channel": "sms",
        "granted": False,
        "recorded": True,
        "delivered": True,
    }
    again = await stack.api.post(url, json=withdraw)  # a retry: recognised, nothing more
    assert again.status_code == 200 and again.json()["recorded"] is False

    async def sms_withdrawn() -> bool:
        status = (await stack.api.get(f"/v1/accounts/{account}")).json()
        return status["consents"]["sms"]["granted"] is False

    await eventually(sms_withdrawn)
    history = await _history(stack, account)
    assert [(c["channel"], c["granted"], c["source"]) for c in history] == [
        ("sms", True, "contract"),
        ("call", True, "app_settings"),
        ("sms", False, "app_settings"),
    ]
    assert all(c["actor"].startswith("api:") for c in history)
    assert await _audited(stack, account) == ["consent.granted"] * 2 + ["consent.withdrawn"]


async def test_a_repeated_start_records_its_consents_once(stack: Stack) -> None:
    account = new_account()
    body = overdue_body(consents=[{"channel": "email", "source": "contract", "given_at": SIGNED}])
    first = await stack.api.put(f"/v1/accounts/{account}/overdue", json=body)
    again = await stack.api.put(f"/v1/accounts/{account}/overdue", json=body)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert len(await _history(stack, account)) == 1
    assert await _audited(stack, account) == ["consent.granted"]


def _future() -> str:
    return iso(datetime.now(UTC) + timedelta(hours=1))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"channel": "fax"}, "channel"),
        ({"action": "revoke"}, "action"),
        ({"source": "inbound_sms"}, "source"),
        ({"source": "rumour"}, "source"),
        ({"at": "2026-01-05T09:00:00"}, "UTC offset"),
        ({"at": None}, "at"),
        ({"change_id": "has space"}, "change_id"),
        ({"extra": 1}, "extra"),
    ],
)
async def test_a_bad_change_is_refused_precisely_and_changes_nothing(
    stack: Stack, change: dict[str, Any], reason: str
) -> None:
    account = await start_account(stack)
    body = {
        "change_id": "chg-x",
        "channel": "sms",
        "action": "grant",
        "source": "backend",
        "at": SIGNED,
        **change,
    }
    problem = assert_problem(
        await stack.api.post(f"/v1/accounts/{account}/consents", json=body), 422
    )
    assert reason in str(problem), problem
    assert await _history(stack, account) == []
    assert await _audited(stack, account) == []


async def test_a_future_instant_is_refused(stack: Stack) -> None:
    account = await start_account(stack)
    body = {"change_id": "c", "channel": "sms", "action": "grant", "source": "backend"}
    problem = assert_problem(
        await stack.api.post(f"/v1/accounts/{account}/consents", json={**body, "at": _future()}),
        422,
    )
    assert "must not be in the future" in str(problem)
    start = overdue_body(consents=[{"channel": "sms", "source": "contract", "given_at": _future()}])
    refused = await stack.api.put(f"/v1/accounts/{new_account()}/overdue", json=start)
    assert "must not be in the future" in str(assert_problem(refused, 422))
    twice = overdue_body(
        consents=[{"channel": "sms", "source": "contract", "given_at": SIGNED}] * 2
    )
    refused = await stack.api.put(f"/v1/accounts/{new_account()}/overdue", json=twice)
    assert "sms is listed twice" in str(assert_problem(refused, 422))
    assert await _history(stack, account) == []


async def test_a_change_id_reused_for_another_change_is_refused(stack: Stack) -> None:
    account = await start_account(stack)
    url = f"/v1/accounts/{account}/consents"
    body = {"change_id": "c-1", "channel": "sms", "action": "grant", "source": "backend"}
    assert (await stack.api.post(url, json={**body, "at": SIGNED})).status_code == 201
    other = await stack.api.post(url, json={**body, "action": "withdraw", "at": SIGNED})
    assert "c-1" in str(assert_problem(other, 409))
    assert [c["granted"] for c in await _history(stack, account)] == [True]


async def test_an_unknown_account_is_404_and_records_nothing(stack: Stack) -> None:
    account = new_account()
    body = {
        "change_id": "c-1",
        "channel": "sms",
        "action": "grant",
        "source": "backend",
        "at": SIGNED,
    }
    assert_problem(await stack.api.post(f"/v1/accounts/{account}/consents", json=body), 404)
    assert_problem(await stack.api.get(f"/v1/accounts/{account}/consents"), 404)
    count = await stack.pool.fetchval(
        "SELECT count(*) FROM consent_events WHERE account_id = $1", account
    )
    assert count == 0


async def test_a_report_to_a_running_process_signals_its_new_consents(stack: Stack) -> None:
    account = await start_account(stack)
    body = overdue_body(
        bill_id="B-2", consents=[{"channel": "letter", "source": "contract", "given_at": SIGNED}]
    )
    added = await stack.api.put(f"/v1/accounts/{account}/overdue", json=body)
    assert added.status_code == 200 and added.json()["bill_added"] is True, added.text

    async def letter_granted() -> bool:
        status = (await stack.api.get(f"/v1/accounts/{account}")).json()
        return bool(status["consents"].get("letter", {}).get("granted"))

    await eventually(letter_granted)
    assert [c["channel"] for c in await _history(stack, account)] == ["letter"]
    assert await _audited(stack, account) == ["consent.granted"]


async def test_a_change_for_an_ended_process_stays_in_the_history_audited_once(
    stack: Stack,
) -> None:
    account = await start_account(stack)
    await stack.temporal.get_workflow_handle(f"overdue-{account}").terminate("test")
    url = f"/v1/accounts/{account}/consents"
    body = {
        "change_id": "late-1",
        "channel": "call",
        "action": "withdraw",
        "source": "agent_recorded",
        "at": SIGNED,
    }
    first = await stack.api.post(url, json=body)
    assert first.status_code == 201, first.text
    assert (first.json()["recorded"], first.json()["delivered"]) == (True, False)
    again = await stack.api.post(url, json=body)
    assert (again.status_code, again.json()["delivered"]) == (200, False)
    assert [(c["channel"], c["granted"]) for c in await _history(stack, account)] == [
        ("call", False)
    ]
    assert await _audited(stack, account) == ["consent.withdrawn"]
    undelivered = await stack.pool.fetchval(
        "SELECT count(*) FROM reported_events WHERE account_id = $1 AND delivered_at IS NULL",
        account,
    )
    assert undelivered == 0  # nothing left for the relay to retry


async def test_a_withdrawal_while_temporal_is_down_is_seen_at_once_and_relayed(
    stack: Stack, cut_off: httpx.AsyncClient
) -> None:
    account = await start_account(
        stack, consents=[{"channel": "sms", "source": "contract", "given_at": SIGNED}]
    )
    withdraw = {
        "change_id": "outage-1",
        "channel": "sms",
        "action": "withdraw",
        "source": "app_settings",
        "at": iso(datetime.now(UTC) - timedelta(minutes=1)),
    }
    answer, took = await timed(cut_off.post(f"/v1/accounts/{account}/consents", json=withdraw))
    assert_unavailable(answer, took)
    # The pre-send check reads the history: the withdrawal holds before any signal.
    assert await consents.withdrawn(stack.pool, account, "sms")

    async def sms_withdrawn() -> bool:  # the suite's API relays it once Temporal "is back"
        status = (await stack.api.get(f"/v1/accounts/{account}")).json()
        return status["consents"]["sms"]["granted"] is False

    await eventually(sms_withdrawn)

    async def audited_once() -> bool:  # written when the relay marks it delivered
        return await _audited(stack, account) == ["consent.granted", "consent.withdrawn"]

    await eventually(audited_once)

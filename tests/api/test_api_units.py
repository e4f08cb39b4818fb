"""Pure parts of the API: visibility filters, cursors, request ids, key hashing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest
from starlette.types import Receive, Scope, Send
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api import cursors
from api.account_list import days_past_due, visibility_query
from api.problems import Problem
from api.request_id import RequestIdMiddleware, accepted_or_new
from overdue.store.api_keys import KEY_PREFIX, generate_key, hash_key
from workflows import search_attributes as sa
from workflows.names import WORKFLOW_TYPE_CLAUSE
from workflows.publishing import due_instant
from workflows.types import AccountState

local_midnight = due_instant(date(2026, 12, 1), "Asia/Shanghai")


def test_visibility_query_is_built_from_validated_values_only() -> None:
    now = datetime(2026, 12, 20, 3, 4, 5, 678, tzinfo=UTC)
    assert visibility_query(None, None, None, now) == WORKFLOW_TYPE_CLAUSE
    # Days past due from the DueDate set at the start (cost-2026-12), or from the DaysPastDue
    # that processes started before keep as of their last transition.
    assert visibility_query(AccountState.ESCALATED, "d3_call", 15, now) == (
        f"{WORKFLOW_TYPE_CLAUSE} AND OverdueState = 'escalated' "
        "AND OverdueStage = 'd3_call' "
        "AND (DueDate <= '2026-12-05T03:04:05Z' OR DaysPastDue >= 15)"
    )


def test_days_past_due_counts_whole_days_since_the_local_midnight_of_the_due_date() -> None:
    # 2026-12-01 in Shanghai starts at 2026-11-30T16:00Z.
    due = TypedSearchAttributes([SearchAttributePair(sa.DUE_DATE, local_midnight)])
    assert days_past_due(due, datetime(2026, 12, 1, 15, 59, tzinfo=UTC)) == 0
    assert days_past_due(due, datetime(2026, 12, 1, 16, 0, tzinfo=UTC)) == 1  # 12-02 local
    assert days_past_due(due, datetime(2026, 11, 20, tzinfo=UTC)) == 0  # not yet due
    before = TypedSearchAttributes([SearchAttributePair(sa.DAYS_PAST_DUE, 7)])
    assert days_past_due(before, datetime(2026, 12, 20, tzinfo=UTC)) == 7


def test_timeline_cursor_round_trips_and_refuses_garbage() -> None:
    at = datetime(2026, 11, 24, 1, 2, 3, 456789, tzinfo=UTC)
    assert cursors.decode_position(cursors.encode_position(at, "audit", 42)) == (at, "audit", 42)
    for garbage in ("!!!", cursors.encode(b"[1,2]"), cursors.encode(b'["2026-01-01", "a", 1]')):
        with pytest.raises(Problem) as refused:
            cursors.decode_position(garbage)
        assert refused.value.status_code == 422


@pytest.mark.parametrize("sent", ["abc-123", "0f" * 16, "req:1/2+3=4"])
def test_a_clean_request_id_is_kept(sent: str) -> None:
    assert accepted_or_new(sent) == sent


@pytest.mark.parametrize("sent", [None, "", "has space", "x" * 129, "line\nbreak", "-lead"])
def test_a_missing_or_odd_request_id_is_replaced(sent: str | None) -> None:
    made = accepted_or_new(sent)
    assert made != sent
    assert len(made) == 32


def test_keys_are_random_and_stored_as_hashes() -> None:
    first, second = generate_key(), generate_key()
    assert first.startswith(KEY_PREFIX)
    assert first != second
    assert len(first) > 40
    assert hash_key(first) != hash_key(second)
    assert len(hash_key(first)) == 32


async def test_an_unhandled_error_is_a_500_problem_with_the_request_id() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    transport = httpx.ASGITransport(app=RequestIdMiddleware(broken))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get("/x", headers={"X-Request-ID": "r-1"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["x-request-id"] == "r-1"
    assert answer.json()["request_id"] == "r-1"
    assert "boom" not in answer.text

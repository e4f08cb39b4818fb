"""Console login throttling: the `limits` windows in the process, the back-off in Postgres
(shared by API processes), on the real clock (short waits)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from api.console.login_throttle import FIRST_LOCKOUT_SECONDS, FREE_FAILURES, LoginThrottle
from overdue.store.login_failures import user_key
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration


def _name() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


def _throttle(per_username: int = 100, per_client: int = 100, cap: int = 900) -> LoginThrottle:
    return LoginThrottle(per_username=per_username, per_client=per_client, max_lockout_seconds=cap)


async def test_a_username_gets_its_attempts_per_minute_from_any_client(stack: Stack) -> None:
    throttle, pool = _throttle(per_username=5), stack.pool
    user = _name()
    for n in range(5):
        assert await throttle.admit(pool, user, f"10.0.0.{n}") is None  # five addresses
    refused = await throttle.admit(pool, user, "10.0.0.99")
    assert refused is not None
    assert refused.scope == "username"
    assert 55 <= refused.retry_after <= 60
    assert refused.first
    again = await throttle.admit(pool, user.upper(), "10.0.0.98")  # the same user, however typed
    assert again is not None and not again.first  # audited once per lockout
    assert await throttle.admit(pool, _name(), "10.0.0.99") is None  # others are not held up


async def test_a_client_gets_its_attempts_per_minute_over_any_usernames(stack: Stack) -> None:
    throttle, pool = _throttle(per_username=5, per_client=8), stack.pool
    for _ in range(8):
        assert await throttle.admit(pool, _name(), "10.0.0.1") is None
    refused = await throttle.admit(pool, _name(), "10.0.0.1")
    assert refused is not None and refused.scope == "client"
    assert await throttle.admit(pool, _name(), "10.0.0.2") is None


async def test_failures_double_the_wait_and_a_success_starts_over(stack: Stack) -> None:
    throttle, pool = _throttle(), stack.pool
    user = _name()
    for _ in range(FREE_FAILURES - 1):
        assert await throttle.admit(pool, user, "c") is None
        await throttle.failed(pool, user)
    assert await throttle.admit(pool, user, "c") is None
    await throttle.failed(pool, user)  # the first that costs: 2 s
    refused = await throttle.admit(pool, user, "c")
    assert refused is not None and refused.scope == "backoff"
    assert refused.retry_after == FIRST_LOCKOUT_SECONDS
    await asyncio.sleep(FIRST_LOCKOUT_SECONDS + 0.1)
    assert await throttle.admit(pool, user, "c") is None
    await throttle.failed(pool, user)  # the next: 4 s
    refused = await throttle.admit(pool, user, "c")
    assert refused is not None and refused.retry_after == 2 * FIRST_LOCKOUT_SECONDS
    await throttle.succeeded(pool, user)
    assert await throttle.admit(pool, user, "c") is None


async def test_the_wait_stops_doubling_at_the_cap(stack: Stack) -> None:
    throttle, pool = _throttle(cap=60), stack.pool
    user = _name()
    for _ in range(40):
        await throttle.failed(pool, user)
    refused = await throttle.admit(pool, user, "c")
    assert refused is not None and refused.retry_after == 60


async def test_api_processes_share_the_back_off_and_audit_its_first_refusal_once(
    stack: Stack,
) -> None:
    """Two API processes (two throttles, one database): failures through either count in one
    run, the lock holds in both, and only the first refusal anywhere is the audited one."""
    one, two, pool = _throttle(), _throttle(), stack.pool
    user = _name()
    # Failures arriving at once through both processes all count.
    await asyncio.gather(*(t.failed(pool, user) for t in (one, two) * FREE_FAILURES))
    refused = [await t.admit(pool, user, "c") for t in (two, one, two)]
    assert [r.scope if r else None for r in refused] == ["backoff"] * 3
    assert [r.first for r in refused if r] == [True, False, False]
    # 2 * FREE_FAILURES failures: past the free ones, the wait doubled each time.
    expected = FIRST_LOCKOUT_SECONDS * 2 ** (2 * FREE_FAILURES - FREE_FAILURES)
    assert all(r is not None and expected - 2 <= r.retry_after <= expected for r in refused)
    await one.succeeded(pool, user)
    assert await two.admit(pool, user, "c") is None


async def test_the_table_keeps_a_hash_and_forgets_stale_runs(stack: Stack) -> None:
    throttle, pool = _throttle(), stack.pool
    user, other = _name(), _name()
    await throttle.failed(pool, user)
    rows = await pool.fetch("SELECT user_key FROM login_failures")
    assert all(user not in r["user_key"] for r in rows)  # never the name as typed
    assert user_key(user) in {r["user_key"] for r in rows}
    # An hour-old unlocked run goes when another username's failure is written.
    await pool.execute(
        "UPDATE login_failures SET first_failed_at = now() - interval '2 hours'"
        " WHERE user_key = $1",
        user_key(user),
    )
    await throttle.failed(pool, other)
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM login_failures WHERE user_key = $1", user_key(user)
        )
        == 0
    )

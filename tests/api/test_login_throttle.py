"""Console login throttling on the real `limits` windows and the real clock (short waits)."""

from __future__ import annotations

import asyncio
import uuid

from api.console.login_throttle import FIRST_LOCKOUT_SECONDS, FREE_FAILURES, LoginThrottle


def _name() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


async def test_a_username_gets_its_attempts_per_minute_from_any_client() -> None:
    throttle = LoginThrottle(per_username=5, per_client=100, max_lockout_seconds=900)
    user = _name()
    for n in range(5):
        assert await throttle.admit(user, f"10.0.0.{n}") is None  # five addresses, one user
    refused = await throttle.admit(user, "10.0.0.99")
    assert refused is not None
    assert refused.scope == "username"
    assert 55 <= refused.retry_after <= 60
    assert refused.first
    again = await throttle.admit(user.upper(), "10.0.0.98")  # the same user, however typed
    assert again is not None and not again.first  # audited once per lockout
    assert await throttle.admit(_name(), "10.0.0.99") is None  # others are not held up


async def test_a_client_gets_its_attempts_per_minute_over_any_usernames() -> None:
    throttle = LoginThrottle(per_username=5, per_client=8, max_lockout_seconds=900)
    for _ in range(8):
        assert await throttle.admit(_name(), "10.0.0.1") is None
    refused = await throttle.admit(_name(), "10.0.0.1")
    assert refused is not None and refused.scope == "client"
    assert await throttle.admit(_name(), "10.0.0.2") is None


async def test_failures_double_the_wait_and_a_success_starts_over() -> None:
    throttle = LoginThrottle(per_username=100, per_client=100, max_lockout_seconds=900)
    user = _name()
    for _ in range(FREE_FAILURES - 1):
        assert await throttle.admit(user, "c") is None
        await throttle.failed(user)
    assert await throttle.admit(user, "c") is None
    await throttle.failed(user)  # the first that costs: 2 s
    refused = await throttle.admit(user, "c")
    assert refused is not None and refused.scope == "backoff"
    assert refused.retry_after == FIRST_LOCKOUT_SECONDS
    await asyncio.sleep(FIRST_LOCKOUT_SECONDS + 0.1)
    assert await throttle.admit(user, "c") is None
    await throttle.failed(user)  # the next: 4 s
    refused = await throttle.admit(user, "c")
    assert refused is not None and refused.retry_after == 2 * FIRST_LOCKOUT_SECONDS
    await throttle.succeeded(user)
    assert await throttle.admit(user, "c") is None


async def test_the_wait_stops_doubling_at_the_cap() -> None:
    throttle = LoginThrottle(per_username=100, per_client=100, max_lockout_seconds=60)
    user = _name()
    for _ in range(40):
        await throttle.failed(user)
    refused = await throttle.admit(user, "c")
    assert refused is not None and refused.retry_after == 60

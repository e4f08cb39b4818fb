"""Console login throttling: per username and per client, with a doubling back-off.

Three limits, each answered `429` with `Retry-After` by the login page:

- a moving window of OVERDUE_LOGIN_ATTEMPTS_PER_MINUTE attempts per username (any client), so
  a password is guessed at most that often, however many addresses the guesser has;
- a moving window of OVERDUE_LOGIN_CLIENT_ATTEMPTS_PER_MINUTE attempts per client address (any
  usernames), so one address cannot spray many accounts;
- after FREE_FAILURES wrong passwords in a row, a username waits 2 s, then 4, 8, ... up to
  OVERDUE_LOGIN_MAX_LOCKOUT_SECONDS before its next attempt; a successful login starts over.

Windows and counters are the `limits` library's (its in-memory storage): they live in the API
process, so N API processes allow N times as many guesses (docs/operations.md). Usernames are
keyed by a hash: what people type never sits in memory longer than the request.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

FREE_FAILURES = 3  # a typo or two costs nothing
FIRST_LOCKOUT_SECONDS = 2
# A run of failures is forgotten this long after it began (bounds the memory that guesses at
# made-up usernames can take; the per-minute windows still hold).
FAILURE_MEMORY_SECONDS = 3600


@dataclass(frozen=True)
class Refusal:
    """Why an attempt was refused and when to come back."""

    scope: str  # "username", "client" or "backoff"
    retry_after: int  # whole seconds, at least 1
    first: bool  # the first refusal of this lockout (the one the audit trail records)


def _key(username: str) -> str:
    return hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]


class LoginThrottle:
    def __init__(self, per_username: int, per_client: int, max_lockout_seconds: int) -> None:
        self._storage = MemoryStorage()
        self._windows = MovingWindowRateLimiter(self._storage)
        self._per_username = RateLimitItemPerMinute(per_username, namespace="login-user")
        self._per_client = RateLimitItemPerMinute(per_client, namespace="login-client")
        self._max_lockout = max_lockout_seconds

    async def admit(self, username: str, client: str) -> Refusal | None:
        """Count one attempt, or refuse it (a refused attempt is not counted)."""
        user = _key(username)
        locked = await self._storage.get_expiry(f"lock/{user}") - time.time()
        if await self._storage.get(f"lock/{user}") and locked > 0:
            return await self._refusal("backoff", user, locked)
        for scope, item, who in (
            ("username", self._per_username, user),
            ("client", self._per_client, client),
        ):
            if not await self._windows.test(item, who):
                stats = await self._windows.get_window_stats(item, who)
                return await self._refusal(scope, who, stats.reset_time - time.time())
        await self._windows.hit(self._per_username, user)
        await self._windows.hit(self._per_client, client)
        return None

    async def failed(self, username: str) -> None:
        """A wrong password: past the free ones, the next attempt waits twice as long."""
        user = _key(username)
        failures = await self._storage.incr(f"failures/{user}", FAILURE_MEMORY_SECONDS)
        if failures >= FREE_FAILURES:
            wait = FIRST_LOCKOUT_SECONDS * 2 ** min(failures - FREE_FAILURES, 20)
            await self._storage.clear(f"lock/{user}")
            await self._storage.incr(f"lock/{user}", min(wait, self._max_lockout))

    async def succeeded(self, username: str) -> None:
        user = _key(username)
        await self._storage.clear(f"failures/{user}")
        await self._storage.clear(f"lock/{user}")

    async def _refusal(self, scope: str, who: str, seconds: float) -> Refusal:
        retry_after = max(1, math.ceil(seconds))
        # One audit row per lockout, not per refused request: a flood must not flood the trail.
        noted = await self._storage.incr(f"noted/{scope}/{who}", retry_after)
        return Refusal(scope=scope, retry_after=retry_after, first=noted == 1)

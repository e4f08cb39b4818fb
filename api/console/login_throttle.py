"""Console login throttling: per username and per client, with a doubling back-off.

Three limits, each answered `429` with `Retry-After` by the login page:

- a moving window of OVERDUE_LOGIN_ATTEMPTS_PER_MINUTE attempts per username (any client), so
  a password is guessed at most that often, however many addresses the guesser has;
- a moving window of OVERDUE_LOGIN_CLIENT_ATTEMPTS_PER_MINUTE attempts per client address (any
  usernames), so one address cannot spray many accounts;
- after FREE_FAILURES wrong passwords in a row, a username waits 2 s, then 4, 8, ... up to
  OVERDUE_LOGIN_MAX_LOCKOUT_SECONDS before its next attempt; a successful login starts over.

The back-off is kept in Postgres (`login_failures`, overdue/store/login_failures.py): every API
process reads the same lock, a restart does not forget it, and its first refusal is audited
once whichever process refuses. The per-minute windows are the `limits` library's, in the API
process's memory: they bound bursts, and N processes allow N windows (docs/operations.md).
Usernames are keyed by a hash, for names with no account too: what people type is never
stored, and a lock says nothing about whether a username exists.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from overdue.store import login_failures
from overdue.store.login_failures import user_key

FREE_FAILURES = 3  # a typo or two costs nothing
FIRST_LOCKOUT_SECONDS = 2
# A run of failures is forgotten this long after it began (bounds the rows that guesses at
# made-up usernames can leave; the per-minute windows still hold).
FAILURE_MEMORY = timedelta(hours=1)


@dataclass(frozen=True)
class Refusal:
    """Why an attempt was refused and when to come back."""

    scope: str  # "username", "client" or "backoff"
    retry_after: int  # whole seconds, at least 1
    first: bool  # the first refusal of this lockout (the one the audit trail records)


class LoginThrottle:
    def __init__(self, per_username: int, per_client: int, max_lockout_seconds: int) -> None:
        self._storage = MemoryStorage()
        self._windows = MovingWindowRateLimiter(self._storage)
        self._per_username = RateLimitItemPerMinute(per_username, namespace="login-user")
        self._per_client = RateLimitItemPerMinute(per_client, namespace="login-client")
        self._max_lockout = max_lockout_seconds

    async def admit(self, pool: asyncpg.Pool, username: str, client: str) -> Refusal | None:
        """Count one attempt, or refuse it (a refused attempt is not counted)."""
        user = user_key(username)
        locked = await login_failures.locked_for(pool, user)
        if locked is not None:
            first = await login_failures.note_refusal(pool, user)
            return Refusal(scope="backoff", retry_after=_whole(locked), first=first)
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

    async def failed(self, pool: asyncpg.Pool, username: str) -> None:
        """A wrong password: past the free ones, the next attempt waits twice as long."""
        await login_failures.failed(pool, user_key(username), memory=FAILURE_MEMORY, wait=self.wait)

    def wait(self, failures: int) -> float | None:
        """Seconds the username waits after `failures` wrong passwords in a row, if any."""
        if failures < FREE_FAILURES:
            return None
        doubled: int = FIRST_LOCKOUT_SECONDS * 2 ** min(failures - FREE_FAILURES, 20)
        return min(doubled, self._max_lockout)

    async def succeeded(self, pool: asyncpg.Pool, username: str) -> None:
        await login_failures.forget(pool, user_key(username))

    async def _refusal(self, scope: str, who: str, seconds: float) -> Refusal:
        retry_after = _whole(seconds)
        # One audit row per window per process, not per refused request: a flood must not
        # flood the trail.
        noted = await self._storage.incr(f"noted/{scope}/{who}", retry_after)
        return Refusal(scope=scope, retry_after=retry_after, first=noted == 1)


def _whole(seconds: float) -> int:
    return max(1, math.ceil(seconds))

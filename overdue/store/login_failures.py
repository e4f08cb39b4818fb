"""Runs of wrong console passwords per username (migration 0023), shared by API processes.

The caller passes the username's hash, never the name (api/console/login_throttle.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import asyncpg

from overdue.store.transactions import Db


def user_key(username: str) -> str:
    """The hash a username is kept under, however it was typed: what people type is never
    stored, and names with no account are kept alike."""
    return hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]


async def locked_for(db: Db, user_key: str) -> float | None:
    """Seconds until the username may try again, or None when it is not locked."""
    seconds: float | None = await db.fetchval(
        """
        SELECT extract(epoch FROM locked_until - now())::float8
          FROM login_failures WHERE user_key = $1 AND locked_until > now()
        """,
        user_key,
    )
    return seconds


async def failed(
    pool: asyncpg.Pool, user_key: str, *, memory: timedelta, wait: Callable[[int], float | None]
) -> int:
    """Count one more wrong password (a run older than `memory` starts over) and lock the
    username for `wait(failures in the run)` seconds, if any; how many in the run now.

    One transaction: the upsert holds the row until the lock is written, so failures arriving
    at once through several API processes count one after the other and each lock is the
    longer one. Stale runs of other usernames are deleted on the way."""
    async with pool.acquire() as conn, conn.transaction():
        failures: int = await conn.fetchval(
            """
            WITH stale AS (
                DELETE FROM login_failures
                 WHERE first_failed_at < now() - $2::interval
                   AND (locked_until IS NULL OR locked_until < now()) AND user_key <> $1
            )
            INSERT INTO login_failures AS f (user_key, failures) VALUES ($1, 1)
            ON CONFLICT (user_key) DO UPDATE SET
                failures = CASE WHEN f.first_failed_at < now() - $2::interval
                                THEN 1 ELSE f.failures + 1 END,
                first_failed_at = CASE WHEN f.first_failed_at < now() - $2::interval
                                       THEN now() ELSE f.first_failed_at END
            RETURNING failures
            """,
            user_key,
            memory,
        )
        seconds = wait(failures)
        if seconds is not None:
            await conn.execute(
                """
                UPDATE login_failures
                   SET locked_until = now() + make_interval(secs => $2), noted = false
                 WHERE user_key = $1
                """,
                user_key,
                seconds,
            )
    return failures


async def note_refusal(db: Db, user_key: str) -> bool:
    """True for the first refusal of the username's current lock (the one to audit)."""
    first: bool | None = await db.fetchval(
        """
        UPDATE login_failures SET noted = true
         WHERE user_key = $1 AND NOT noted AND locked_until > now()
        RETURNING true
        """,
        user_key,
    )
    return bool(first)


async def forget(db: Db, user_key: str) -> None:
    """A successful login: the run is over."""
    await db.execute("DELETE FROM login_failures WHERE user_key = $1", user_key)

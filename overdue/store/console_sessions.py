"""Console logins (table `console_sessions`, joined to `console_users` on look-up).

One row per login, keyed by the SHA-256 of the cookie's random token (hashed by the caller,
`api.console.sessions`), so a database leak gives no usable session. Each row carries the
session's CSRF token and its expiry. This module owns every statement on the table: creating a
session, looking one up with its user, deleting it at logout, purging the expired ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from overdue.store.console_users import ConsoleUser, Role
from workflows.policy import CallQueue


@dataclass(frozen=True)
class ConsoleSession:
    """A live login: who is signed in, and the token their forms must send back."""

    user: ConsoleUser
    csrf_token: str


async def purge_expired(conn: asyncpg.Connection | asyncpg.Pool) -> None:
    """Delete the sessions past their expiry (look-ups already ignore them; this keeps the
    table small)."""
    await conn.execute("DELETE FROM console_sessions WHERE expires_at < now()")


async def create_session(
    pool: asyncpg.Pool, token_hash: bytes, user_id: int, csrf_token: str, lifetime: timedelta
) -> None:
    """Store a new session that expires after `lifetime`. Expired ones are purged in the same
    transaction: logins are rare enough that this needs no separate job."""
    async with pool.acquire() as conn, conn.transaction():
        await purge_expired(conn)
        await conn.execute(
            """
            INSERT INTO console_sessions (token_hash, user_id, csrf_token, expires_at)
            VALUES ($1, $2, $3, now() + $4::interval)
            """,
            token_hash,
            user_id,
            csrf_token,
            lifetime,
        )


async def find_session(
    conn: asyncpg.Connection | asyncpg.Pool, token_hash: bytes
) -> ConsoleSession | None:
    """The live session with this hash and its user; None when expired, unknown, or the user
    was disabled since (disabling a user thus ends their sessions at once)."""
    row = await conn.fetchrow(
        """
        SELECT u.id, u.username, u.role, u.queue, s.csrf_token
          FROM console_sessions s JOIN console_users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > now() AND u.disabled_at IS NULL
        """,
        token_hash,
    )
    if row is None:
        return None
    user = ConsoleUser(
        id=row["id"],
        username=row["username"],
        role=Role(row["role"]),
        queue=CallQueue(row["queue"]),
    )
    return ConsoleSession(user=user, csrf_token=row["csrf_token"])


async def delete_session(conn: asyncpg.Connection | asyncpg.Pool, token_hash: bytes) -> None:
    """End the session (logout); a hash that matches nothing is no error."""
    await conn.execute("DELETE FROM console_sessions WHERE token_hash = $1", token_hash)

"""Console logins: server-side sessions behind a random cookie, each with its CSRF token.

The cookie holds 32 random bytes; the table keeps their SHA-256, so a database leak gives no
usable session. Logging out or expiry deletes the row. The cookie is HttpOnly, SameSite=Lax,
Path=/console, and Secure whenever the request came over https.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from overdue.store.console_users import ConsoleUser, Role
from workflows.policy import CallQueue

COOKIE = "overdue_session"
LOGIN_CSRF_COOKIE = "overdue_login_csrf"
COOKIE_PATH = "/console"


@dataclass(frozen=True)
class ConsoleSession:
    user: ConsoleUser
    csrf_token: str


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


async def open_session(pool: asyncpg.Pool, user: ConsoleUser, lifetime: timedelta) -> str:
    """A new session for the user; returns the cookie value (shown to nobody else)."""
    token = new_token()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM console_sessions WHERE expires_at < now()")
        await conn.execute(
            """
            INSERT INTO console_sessions (token_hash, user_id, csrf_token, expires_at)
            VALUES ($1, $2, $3, now() + $4::interval)
            """,
            _hash(token),
            user.id,
            new_token(),
            lifetime,
        )
    return token


async def load_session(pool: asyncpg.Pool, token: str | None) -> ConsoleSession | None:
    if not token:
        return None
    row = await pool.fetchrow(
        """
        SELECT u.id, u.username, u.role, u.queue, s.csrf_token
          FROM console_sessions s JOIN console_users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > now() AND u.disabled_at IS NULL
        """,
        _hash(token),
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


async def close_session(pool: asyncpg.Pool, token: str | None) -> None:
    if token:
        await pool.execute("DELETE FROM console_sessions WHERE token_hash = $1", _hash(token))


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )

"""Console logins: server-side sessions behind a random cookie, each with its CSRF token.

The cookie holds 32 random bytes; the table keeps their SHA-256, so a database leak gives no
usable session. Logging out or expiry deletes the row. The cookie is HttpOnly, SameSite=Lax,
Path=/console, and Secure whenever the request came over https.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from overdue.store import console_sessions
from overdue.store.console_sessions import ConsoleSession
from overdue.store.console_users import ConsoleUser

COOKIE = "overdue_session"
LOGIN_CSRF_COOKIE = "overdue_login_csrf"
COOKIE_PATH = "/console"


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


async def open_session(pool: asyncpg.Pool, user: ConsoleUser, lifetime: timedelta) -> str:
    """A new session for the user; returns the cookie value (shown to nobody else)."""
    token = new_token()
    await console_sessions.create_session(pool, _hash(token), user.id, new_token(), lifetime)
    return token


async def load_session(pool: asyncpg.Pool, token: str | None) -> ConsoleSession | None:
    if not token:
        return None
    return await console_sessions.find_session(pool, _hash(token))


async def close_session(pool: asyncpg.Pool, token: str | None) -> None:
    if token:
        await console_sessions.delete_session(pool, _hash(token))


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

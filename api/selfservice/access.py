"""Who may see a self-service page: a live link, within its rate limit, and a session opened
by passing the identity check on that link.

The link's token is the URL's last segment; Postgres knows it only by its SHA-256. A session
is a random cookie scoped to the link's path (`/s/<token>`), HttpOnly, SameSite=Strict, Secure
over https; its row carries the CSRF token every form sends back. The identity check's own form
is protected by a double-submit cookie (no session exists yet). Every refusal is an
`AccessRefused` with the HTTP status and the key of the page's message.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from api.dependencies import Services
from overdue.store import selfservice_links
from overdue.store.selfservice_links import LINK_PATH, BorrowerSession, Link, token_hash

SESSION_COOKIE = "overdue_selfservice"
CHECK_COOKIE = "overdue_selfservice_check"
CSRF_FIELD = "csrf_token"
FORM_KEY_FIELD = "form_key"
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
FORM_KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")
RATE_WINDOW = timedelta(hours=1)


class AccessRefused(Exception):
    """The page is refused: `status` and the key of its message (`pages.MESSAGES`)."""

    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status = status
        self.key = key


@dataclass(frozen=True)
class Visit:
    """A request on a live link, with the borrower's session when they passed the check."""

    token: str
    link: Link
    session: BorrowerSession | None

    @property
    def path(self) -> str:
        return f"{LINK_PATH}{self.token}"

    @property
    def account_id(self) -> str:
        return self.link.account_id


def _hash(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def same(expected: str, given: object) -> bool:
    return isinstance(given, str) and bool(given) and hmac.compare_digest(expected, given)


async def visit(request: Request, services: Services, token: str) -> Visit:
    """The live link `token` names, counted against its rate limit; refused otherwise."""
    if not TOKEN_PATTERN.match(token):
        raise AccessRefused(404, "link.unknown")
    hashed = token_hash(token)
    pool, settings = services.pool, services.settings
    link = await selfservice_links.find_link(pool, hashed)
    if link is None:
        raise AccessRefused(404, "link.unknown")
    if link.revoked_at is not None:
        raise AccessRefused(410, "link.revoked")
    if link.expires_at <= datetime.now(UTC):
        raise AccessRefused(410, "link.expired")
    if await selfservice_links.count_open(pool, hashed, RATE_WINDOW) > (
        settings.selfservice_opens_per_hour
    ):
        raise AccessRefused(429, "link.rate_limited")
    cookie = request.cookies.get(SESSION_COOKIE)
    session = await selfservice_links.find_session(pool, _hash(cookie), hashed) if cookie else None
    return Visit(token=token, link=link, session=session)


def signed_in(visit: Visit) -> BorrowerSession:
    if visit.session is None:
        raise AccessRefused(403, "session.missing")
    return visit.session


def check_csrf(visit: Visit, form_token: object) -> BorrowerSession:
    """The session, when the form carries its CSRF token; refused otherwise."""
    session = signed_in(visit)
    if not same(session.csrf_token, form_token):
        raise AccessRefused(403, "form.csrf")
    return session


def form_key(value: object) -> str:
    """The form's idempotency key, as the page rendered it."""
    if not isinstance(value, str) or not FORM_KEY_PATTERN.match(value):
        raise AccessRefused(403, "form.csrf")
    return value


def new_form_key() -> str:
    return secrets.token_hex(16)


async def open_session(services: Services, visit: Visit) -> str:
    """A session for the link; the cookie's value."""
    value = secrets.token_urlsafe(32)
    lifetime = timedelta(minutes=services.settings.selfservice_session_minutes)
    await selfservice_links.open_session(
        services.pool, _hash(value), visit.link, secrets.token_urlsafe(32), lifetime
    )
    return value


def set_cookie(request: Request, response: Response, visit: Visit, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path=visit.path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )

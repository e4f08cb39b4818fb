"""Logging in and out, and the language switch."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.console import i18n
from api.console.context import AnyVisitor, CsrfForm, SignedIn
from api.console.login_throttle import LoginThrottle
from api.console.rendering import render
from api.console.sessions import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    clear_cookie,
    close_session,
    new_token,
    open_session,
    set_cookie,
    tokens_match,
)
from overdue.inputs import control_character_in
from overdue.store.audit import record_event
from overdue.store.console_users import MAX_PASSWORD_LENGTH, authenticate

router = APIRouter(prefix="/console", include_in_schema=False)
logger = logging.getLogger(__name__)


def _login_page(
    page: AnyVisitor,
    status: int = 200,
    failed: bool = False,
    username: str = "",
    retry_after: int | None = None,
) -> Response:
    # Login CSRF: a double-submit token, in a cookie and in the form, compared on POST.
    token = new_token()
    response = render(
        page,
        "login.html",
        status,
        login_csrf=token,
        failed=failed,
        username=username,
        retry_after=retry_after,
    )
    set_cookie(page.request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def throttle_of(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


async def _throttled(page: AnyVisitor, username: str) -> Response | None:
    """A 429 page when this attempt is over a limit (audited once per lockout), else None."""
    client = page.request.client.host if page.request.client else "unknown"
    refusal = await throttle_of(page.request).admit(page.services.pool, username, client)
    if refusal is None:
        return None
    logger.warning("console login throttled", extra={"throttle": refusal.scope})
    if refusal.first:
        # Never the password, nor the typed username (free text): the limit and the address.
        await record_event(
            page.services.pool,
            account_id=None,
            actor="console",
            kind="console.login_throttled",
            details={
                "limit": refusal.scope,
                "client": client,
                "retry_after_seconds": refusal.retry_after,
            },
        )
    return _login_page(page, 429, failed=True, username=username, retry_after=refusal.retry_after)


@router.get("/login")
async def login_form(page: AnyVisitor) -> Response:
    if page.session is not None:
        return RedirectResponse("/console", status_code=303)
    return _login_page(page)


@router.post("/login")
async def login(
    page: AnyVisitor,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD_LENGTH)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if not tokens_match(page.request.cookies.get(LOGIN_CSRF_COOKIE) or "", csrf_token):
        return _login_page(page, 403, failed=True, username=username)
    throttled = await _throttled(page, username)
    if throttled is not None:
        return throttled
    # No user name holds a control character (Postgres refuses NUL outright): a failed login.
    clean = not control_character_in(username)
    user = await authenticate(page.services.pool, username.strip(), password) if clean else None
    if user is None:
        logger.info("console login failed")
        await throttle_of(page.request).failed(page.services.pool, username)
        return _login_page(page, 401, failed=True, username=username if clean else "")
    await throttle_of(page.request).succeeded(page.services.pool, username)
    lifetime = timedelta(hours=page.services.settings.console_session_hours)
    token = await open_session(page.services.pool, user, lifetime)
    logger.info("console login", extra={"user_id": user.id})
    response = RedirectResponse("/console", status_code=303)
    set_cookie(page.request, response, COOKIE, token, max_age=int(lifetime.total_seconds()))
    clear_cookie(page.request, response, LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(page: SignedIn, _form: CsrfForm) -> Response:
    await close_session(page.services.pool, page.request.cookies.get(COOKIE))
    response = RedirectResponse("/console/login", status_code=303)
    clear_cookie(page.request, response, COOKIE)
    return response


# Only a language the console has (a tag from i18n.LANGUAGES, never free text into a cookie).
LANGUAGE_PATTERN = "^(" + "|".join(re.escape(lang) for lang in i18n.LANGUAGES) + ")$"


@router.get("/lang")
async def switch_language(
    request: Request,
    to: Annotated[str, Query(pattern=LANGUAGE_PATTERN)],
    next: Annotated[str, Query(max_length=300)] = "/console",
) -> Response:
    # Only our own pages: a path under /console, never another host ("//evil", "/\\evil").
    target = (
        next
        if next.startswith("/console") and "//" not in next and "\\" not in next
        else "/console"
    )
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, i18n.COOKIE, to, max_age=365 * 24 * 3600)
    return response

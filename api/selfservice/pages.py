"""The borrower's pages (docs/self-service.md): `/s/<token>` asks for the identity check, then
shows what is owed and the forms; each form posts to its own path and, once the workflow took
it, redirects back with a thank-you (post/redirect/get: a reload sends nothing twice).

Every form carries the session's CSRF token and its own idempotency key (`form_key`); a form
refused (bad CSRF, bad input, the workflow's validator) changes nothing: no submission row, no
text, no file, no event.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData
from starlette.responses import Response

from api.console import i18n
from api.console.outcomes import Action, perform
from api.dependencies import ServicesDep
from api.selfservice import access, code_pages, forms, uploads
from api.selfservice.access import CHECK_COOKIE, SESSION_COOKIE, AccessRefused, Visit
from api.selfservice.messages import MESSAGES
from api.selfservice.rendering import LANGUAGES, gettext, language, render
from api.selfservice.view import home_values
from api.workflow_calls import ProcessNotRunning, UpdateRejected, account_handle, status_if_running
from overdue.store import sealed_files, selfservice_links, selfservice_records
from workflows.types import AccountStatus

router = APIRouter(prefix="/s", include_in_schema=False)
logger = logging.getLogger(__name__)
Token = Annotated[str, Path(max_length=64)]
_ID_LAST4 = re.compile(r"^[0-9]{3}[0-9Xx]$")
Builder = Callable[[FormData, AccountStatus, str], Action]


def message_page(request: Request, status: int, key: str, **values: Any) -> Response:
    text = gettext(language(request), MESSAGES[key], **values)
    return render(request, "message.html", status, message=text)


async def _check_page(
    request: Request, services: ServicesDep, v: Visit, status: int = 200, error: str = ""
) -> Response:
    if v.link.failed_checks >= services.settings.selfservice_max_check_failures:
        return message_page(request, 429, "link.locked")
    if not await selfservice_records.has_id_last4(services.pool, v.account_id):
        return await code_pages.ask_page(request, services, v, status)  # a code by SMS
    value = access.new_form_key()
    page = render(request, "check.html", status, path=v.path, csrf_token=value, error=error)
    access.set_cookie(request, page, v, CHECK_COOKIE, value)
    return page


@router.get("/{token}")
async def home(
    request: Request, services: ServicesDep, token: Token, done: Annotated[str, Query()] = ""
) -> Response:
    v = await access.visit(request, services, token)
    if v.session is None:
        return await _check_page(request, services, v)
    return await _home(request, services, v, done=done)


async def _home(
    request: Request,
    services: ServicesDep,
    v: Visit,
    *,
    status_code: int = 200,
    done: str = "",
    error: str = "",
    current: AccountStatus | None = None,
) -> Response:
    current = current or await status_if_running(services.temporal, v.account_id)
    if current is None:
        return message_page(request, 409, "process.ended")
    lang = language(request)
    values = await home_values(services, v, current)
    thanks = gettext(lang, MESSAGES[f"done.{done}"]) if f"done.{done}" in MESSAGES else ""
    return render(request, "home.html", status_code, thanks=thanks, error=error, **values)


@router.post("/{token}/check")
async def check(request: Request, services: ServicesDep, token: Token) -> Response:
    form = await request.form()
    v = await access.visit(request, services, token)
    limit = services.settings.selfservice_max_check_failures
    if v.link.failed_checks >= limit:
        return message_page(request, 429, "link.locked")
    if not access.same(request.cookies.get(CHECK_COOKIE, ""), form.get(access.CSRF_FIELD)):
        raise AccessRefused(403, "form.csrf")
    given = str(form.get("id_last4") or "").strip()
    hashed = v.link.token_hash
    if not _ID_LAST4.match(given) or not await selfservice_records.id_last4_matches(
        services.pool, v.account_id, given
    ):
        failed = await selfservice_links.count_failed_check(services.pool, hashed)
        if failed >= limit:
            return message_page(request, 429, "link.locked")
        error = gettext(language(request), MESSAGES["check.wrong"], left=limit - failed)
        return await _check_page(request, services, v, 422, error)
    cookie = await access.open_session(services, v)
    answer = RedirectResponse(v.path, status_code=303)
    access.set_cookie(request, answer, v, SESSION_COOKIE, cookie)
    answer.delete_cookie(CHECK_COOKIE, path=v.path)
    return answer


@router.get("/{token}/lang")
async def switch_language(token: Token, to: Annotated[str, Query()] = "en") -> Response:
    """The language switch: a cookie for the borrower's pages, then back to the link."""
    answer = RedirectResponse(f"/s/{token}", status_code=303)
    if to in LANGUAGES and access.TOKEN_PATTERN.match(token):
        answer.set_cookie(i18n.COOKIE, to, path="/s", samesite="strict", httponly=True)
    return answer


async def _submit(
    request: Request, services: ServicesDep, token: Token, build: Builder, *, files: bool = False
) -> Response:
    settings = services.settings
    form = await request.form(
        max_files=settings.selfservice_max_files if files else 0,
        max_part_size=64 * 1024,
    )
    v = await access.visit(request, services, token)
    access.check_csrf(v, form.get(access.CSRF_FIELD))
    key = access.form_key(form.get(access.FORM_KEY_FIELD))
    taken = await selfservice_records.submission_taken(services.pool, key)
    if taken is not None:
        if taken != v.account_id:
            raise AccessRefused(403, "form.csrf")
        return RedirectResponse(f"{v.path}?done=again", status_code=303)
    current = await status_if_running(services.temporal, v.account_id)
    if current is None:
        return message_page(request, 409, "process.ended")
    lang = language(request)
    try:
        action = build(form, current, key)
        evidence = await uploads.checked_files(form, settings) if files else []
    except forms.Invalid as err:
        error = uploads.invalid_text(lang, err, settings)
        return await _home(request, services, v, status_code=422, error=error, current=current)
    return await _send(request, services, v, action, key, evidence, current)


async def _send(
    request: Request,
    services: ServicesDep,
    v: Visit,
    action: Action,
    key: str,
    evidence: list[uploads.Evidence],
    current: AccountStatus,
) -> Response:
    pool = services.pool
    file_ids = await uploads.keep_files(pool, v.account_id, key, evidence)
    if file_ids:
        action.audit_details["evidence"] = file_ids
    try:
        await perform(
            pool, account_handle(services.temporal, v.account_id), v.account_id, forms.ACTOR, action
        )
    except (UpdateRejected, ProcessNotRunning) as err:
        await sealed_files.forget_form_files(pool, key)
        if isinstance(err, ProcessNotRunning):
            return message_page(request, 409, "process.ended")
        error = gettext(language(request), MESSAGES["form.rejected"], reason=err.reason)
        return await _home(request, services, v, status_code=422, error=error, current=current)
    await selfservice_records.record_submission(
        pool,
        form_key=key,
        account_id=v.account_id,
        kind=action.name,
        details=action.audit_details,
        text_id=action.text.id if action.text else None,
    )
    logger.info("self-service submission", extra={"action": action.name})
    return RedirectResponse(f"{v.path}?done={action.name}", status_code=303)


@router.post("/{token}/promise")
async def promise(request: Request, services: ServicesDep, token: Token) -> Response:
    return await _submit(request, services, token, forms.promise)


@router.post("/{token}/contact")
async def contact(request: Request, services: ServicesDep, token: Token) -> Response:
    return await _submit(request, services, token, lambda f, _s, k: forms.contact(f, k))


@router.post("/{token}/hardship")
async def hardship(request: Request, services: ServicesDep, token: Token) -> Response:
    build: Builder = lambda f, _s, k: forms.report(f, "hardship", k)  # noqa: E731
    return await _submit(request, services, token, build, files=True)


@router.post("/{token}/dispute")
async def dispute(request: Request, services: ServicesDep, token: Token) -> Response:
    build: Builder = lambda f, _s, k: forms.report(f, "dispute", k)  # noqa: E731
    return await _submit(request, services, token, build, files=True)


@router.post("/{token}/forbearance")
async def forbearance(request: Request, services: ServicesDep, token: Token) -> Response:
    return await _submit(request, services, token, lambda f, _s, k: forms.forbearance(f, k))

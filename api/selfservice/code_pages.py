"""The one-time code by SMS: the identity check of a link whose account has no `id_last4`
(docs/self-service.md "The one-time code").

The check page offers "send me a code" (a form with the check's double-submit CSRF cookie and
its own idempotency key). Sending it, within the link's caps (`selfservice_codes`), asks the
account's workflow to send the code (update `send_selfservice_code`, id
`selfservice-code-<key>`): the SMS queue's activity makes the code, keeps its hash and sends it
once, through the stage SMS's ledger, pre-send check and opt-out checks. The same form sent
again sends nothing more. The code entered counts on the link's failure counter like a wrong
`id_last4`; the right one opens the same session.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response
from temporalio.service import RPCError, RPCStatusCode

from api.console.i18n import N_
from api.dependencies import Services, ServicesDep
from api.selfservice import access
from api.selfservice.access import CHECK_COOKIE, SESSION_COOKIE, AccessRefused, Visit
from api.selfservice.messages import MESSAGES
from api.selfservice.rendering import gettext, language, render
from api.workflow_calls import ProcessNotRunning, UpdateRejected, account_handle, to_running
from overdue.store import (
    accounts,
    consents,
    sealed_texts,
    selfservice_codes,
    selfservice_links,
    selfservice_records,
    sms_consent,
)
from workflows.selfservice_code_types import CodeRequested, CodeSent

router = APIRouter(prefix="/s", include_in_schema=False)
logger = logging.getLogger(__name__)
_CODE = re.compile(r"^[0-9]{6}$")
# How long the page waits for the workflow's answer; past it the SMS still goes (the
# activity retries), and the page asks for the code as if it had.
_SEND_WAIT_SECONDS = 20.0

CODE_MESSAGES: dict[str, str] = {
    "code.call_us": N_("We cannot send you a code by SMS. Please call us to confirm who you are."),
    "code.too_soon": N_(
        "You have asked for a code recently. Please try again in %(minutes)s minute(s)."
    ),
    "code.wrong": N_("That code is wrong or has expired. Attempts left: %(left)s."),
    "code.sent": N_("We sent a code by SMS to the phone number we have for you."),
}


def _message(request: Request, status: int, key: str, **values: Any) -> Response:
    text = gettext(language(request), CODE_MESSAGES[key], **values)
    return render(request, "message.html", status, message=text)


def _locked(request: Request) -> Response:
    text = gettext(language(request), MESSAGES["link.locked"])
    return render(request, "message.html", 429, message=text)


async def ask_page(request: Request, services: Services, v: Visit, status: int = 200) -> Response:
    """The check page of an account without `id_last4`: "send me a code", or "please call us"
    where no code can go (no number, opted out, consent withdrawn, the account erased)."""
    if await _refused_reach(services, v.account_id):
        return _message(request, 200, "code.call_us")
    return await code_page(request, v, status=status)


async def code_page(
    request: Request, v: Visit, *, status: int = 200, sent: bool = False, error: str = ""
) -> Response:
    """The code's forms: send a code; enter it (once one was sent)."""
    value = access.new_form_key()
    note = gettext(language(request), CODE_MESSAGES["code.sent"]) if sent else ""
    page = render(
        request,
        "code.html",
        status,
        path=v.path,
        csrf_token=value,
        form_key=access.new_form_key(),
        sent=sent,
        note=note,
        error=error,
    )
    access.set_cookie(request, page, v, CHECK_COOKIE, value)
    return page


async def _refused_reach(services: Services, account_id: str) -> bool:
    """Whether no code may go: no number (none given, or erased), a number that opted out
    (STOP), consent withdrawn, the account's data key destroyed (erasure)."""
    phone = await accounts.customer_phone(services.pool, account_id)
    return (
        not phone
        or await sealed_texts.is_erased(services.pool, account_id)
        or await sms_consent.is_opted_out(services.pool, phone)
        or await consents.withdrawn(services.pool, account_id, "sms")
    )


async def _checked_visit(request: Request, services: Services, token: str) -> Visit | Response:
    """The visit, when its link may take a code form; the refusal page otherwise."""
    form = await request.form()
    v = await access.visit(request, services, token)
    if v.link.failed_checks >= services.settings.selfservice_max_check_failures:
        return _locked(request)
    if not access.same(request.cookies.get(CHECK_COOKIE, ""), form.get(access.CSRF_FIELD)):
        raise AccessRefused(403, "form.csrf")
    if await selfservice_records.has_id_last4(services.pool, v.account_id):
        return RedirectResponse(v.path, status_code=303)  # its check is the ID's last 4
    return v


@router.get("/{token}/code")
async def enter_code(request: Request, services: ServicesDep, token: str) -> Response:
    v = await access.visit(request, services, token)
    pool = services.pool
    if (
        v.session is not None
        or await selfservice_records.has_id_last4(pool, v.account_id)
        or not await selfservice_codes.asked_on(pool, v.link.token_hash)
    ):
        return RedirectResponse(v.path, status_code=303)  # signed in, or no code to enter
    if v.link.failed_checks >= services.settings.selfservice_max_check_failures:
        return _locked(request)
    return await code_page(request, v, sent=True)


@router.post("/{token}/code/send")
async def send_code(request: Request, services: ServicesDep, token: str) -> Response:
    checked = await _checked_visit(request, services, token)
    if isinstance(checked, Response):
        return checked
    v, settings = checked, services.settings
    key = access.form_key((await request.form()).get(access.FORM_KEY_FIELD))
    if await _refused_reach(services, v.account_id):
        return _message(request, 200, "code.call_us")
    taken = await selfservice_codes.request_code(
        services.pool,
        request_key=key,
        token_hash=v.link.token_hash,
        account_id=v.account_id,
        per_day=settings.selfservice_codes_per_day,
        interval=settings.selfservice_code_interval,
        lifetime=settings.selfservice_code_lifetime,
    )
    if taken is None:
        raise AccessRefused(403, "form.csrf")
    if isinstance(taken, selfservice_codes.TooSoon):
        wait = (taken.retry_at - datetime.now(UTC)).total_seconds()
        answer = _message(request, 429, "code.too_soon", minutes=max(1, math.ceil(wait / 60)))
        answer.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return answer
    # Sent again for a form already taken: a request that failed half-way finishes; one that
    # went through sends nothing more (the ledger row of its key is already sent).
    outcome = await _ask_workflow(services, v, key)
    logger.info("self-service code asked", extra={"outcome": outcome, "new": taken.new})
    if outcome in ("refused", "withheld"):
        return _message(request, 200, "code.call_us")
    return RedirectResponse(f"{v.path}/code", status_code=303)


async def _ask_workflow(services: Services, v: Visit, key: str) -> str:
    handle = account_handle(services.temporal, v.account_id)
    try:
        sent: CodeSent = await asyncio.wait_for(
            to_running(
                lambda: handle.execute_update(
                    "send_selfservice_code",
                    CodeRequested(request_key=key),
                    id=f"selfservice-code-{key}",
                    result_type=CodeSent,
                    rpc_timeout=timedelta(seconds=_SEND_WAIT_SECONDS),
                )
            ),
            _SEND_WAIT_SECONDS + 1,
        )
    except (ProcessNotRunning, UpdateRejected):
        return "refused"
    except TimeoutError:
        return "pending"  # still retrying: the code arrives when the provider takes it
    except RPCError as err:
        if err.status != RPCStatusCode.DEADLINE_EXCEEDED:
            raise
        return "pending"
    return sent.outcome


@router.post("/{token}/code")
async def check_code(request: Request, services: ServicesDep, token: str) -> Response:
    checked = await _checked_visit(request, services, token)
    if isinstance(checked, Response):
        return checked
    v, limit = checked, services.settings.selfservice_max_check_failures
    given = str((await request.form()).get("code") or "").strip()
    hashed = selfservice_codes.code_hash(v.link.token_hash, given)
    if not _CODE.match(given) or not await selfservice_codes.use_code(
        services.pool, v.link.token_hash, hashed
    ):
        failed = await selfservice_links.count_failed_check(services.pool, v.link.token_hash)
        if failed >= limit:
            return _locked(request)
        error = gettext(language(request), CODE_MESSAGES["code.wrong"], left=limit - failed)
        return await code_page(request, v, status=422, sent=True, error=error)
    cookie = await access.open_session(services, v)
    answer = RedirectResponse(v.path, status_code=303)
    access.set_cookie(request, answer, v, SESSION_COOKIE, cookie)
    answer.delete_cookie(CHECK_COOKIE, path=v.path)
    return answer

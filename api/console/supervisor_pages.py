"""Supervisors: the escalation queue, any account's status and timeline, pause and resume,
hardship decisions, complaints resolved."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api import cursors
from api.account_list import list_accounts, visibility_query
from api.console.complaint_form import ComplaintFormInvalid, resolve_from_form
from api.console.context import Console, ConsoleError, CsrfForm, Supervisor
from api.console.outcomes import FormInvalid, perform, supervisor_action
from api.console.reasons import refused_answer, status_money
from api.console.rendering import render
from api.console.words import in_words
from api.problems import Problem
from api.timeline import timeline_page
from api.workflow_calls import (
    ProcessNotRunning,
    UpdateRejected,
    account_handle,
    status_if_running,
)
from overdue.account_status import days_past_due_now, with_texts
from overdue.store.accounts import account_exists
from overdue.store.complaints import ComplaintNotOpen, complaints_of
from overdue.store.review_tasks import overdue_reviews
from workflows.types import ACCOUNT_ID_PATTERN, AccountState, AccountStatus

router = APIRouter(prefix="/console", include_in_schema=False)


def utc_now() -> datetime:
    return datetime.now(UTC)


AccountId = Annotated[str, Path(pattern=ACCOUNT_ID_PATTERN)]
ComplaintId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/escalations")
async def escalations(page: Supervisor) -> Response:
    query = visibility_query(AccountState.ESCALATED, None, None)
    found = await list_accounts(page.services.temporal, query, 100, None)
    running = [a for a in found.accounts if a.execution_status == "running"]
    reviews = await overdue_reviews(page.services.pool)  # disputes past their review deadline
    return render(page, "escalations.html", accounts=running, reviews=reviews, now=utc_now())


@router.get("/accounts")
async def find_account(
    page: Supervisor, account_id: Annotated[str, Query(pattern=ACCOUNT_ID_PATTERN)]
) -> Response:
    return RedirectResponse(f"/console/accounts/{account_id}", status_code=303)


async def _render_account(
    page: Console,
    account_id: str,
    *,
    cursor: str | None = None,
    status_code: int = 200,
    answer: dict[str, Any] | None = None,
    forms: dict[str, dict[str, str]] | None = None,
    current: AccountStatus | None = None,
) -> Response:
    pool = page.services.pool
    if not await account_exists(pool, account_id):
        raise ConsoleError(404, "error.not_found")
    try:
        after = cursors.decode_position(cursor) if cursor else None
    except Problem:
        after = None
    entries, next_cursor = await timeline_page(pool, account_id, 50, after)
    current = current or await status_if_running(page.services.temporal, account_id)
    current = current and await with_texts(pool, current)  # why it is paused
    return render(
        page,
        "account.html",
        status_code,
        account_id=account_id,
        status=current,
        days_past_due=days_past_due_now(current) if current else None,
        entries=entries,
        next_cursor=next_cursor,
        complaints=await complaints_of(pool, account_id),
        complaint_deadline_days=page.services.settings.report_complaint_deadline_days,
        now=utc_now(),
        answer=answer,
        forms=forms or {},
        here=f"/console/accounts/{account_id}",
    )


@router.get("/accounts/{account_id}")
async def account_page(
    page: Supervisor,
    account_id: AccountId,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    return await _render_account(page, account_id, cursor=cursor)


@router.post("/accounts/{account_id}/actions")
async def account_action(page: Supervisor, account_id: AccountId, form: CsrfForm) -> Response:
    typed = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    keep = {typed.get("action", ""): typed}
    current = await status_if_running(page.services.temporal, account_id)
    if current is None:
        answer = {
            "ok": False,
            "message": page.t.gettext("The account's process has ended; nothing was recorded."),
        }
        return await _render_account(page, account_id, status_code=409, answer=answer, forms=keep)
    try:
        action = supervisor_action(typed, actor=page.actor, status=current)
        new_status = await perform(
            page.services.pool,
            account_handle(page.services.temporal, account_id),
            account_id,
            page.actor,
            action,
        )
    except FormInvalid as err:
        answer = refused_answer(page.t, str(err), rejection=False, money=status_money(current))
        return await _render_account(
            page, account_id, status_code=422, answer=answer, forms=keep, current=current
        )
    except UpdateRejected as err:
        answer = refused_answer(page.t, err.reason, rejection=True, money=status_money(current))
        return await _render_account(
            page, account_id, status_code=422, answer=answer, forms=keep, current=current
        )
    except ProcessNotRunning:
        answer = {
            "ok": False,
            "message": page.t.gettext("The account's process has ended; nothing was recorded."),
        }
        return await _render_account(page, account_id, status_code=409, answer=answer, forms=keep)
    state = new_status.state.value if new_status else "?"
    answer = {
        "ok": True,
        "message": page.t.gettext(
            "Done. The account is now: %(state)s.", state=in_words(page.t, "state", state)
        ),
    }
    return await _render_account(page, account_id, answer=answer, current=new_status)


@router.post("/accounts/{account_id}/complaints/{complaint_id}/resolve")
async def resolve_complaint(
    page: Supervisor, account_id: AccountId, complaint_id: ComplaintId, form: CsrfForm
) -> Response:
    typed = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    keep = {f"complaint-{complaint_id}": typed}
    if not await account_exists(page.services.pool, account_id):
        raise ConsoleError(404, "error.not_found")
    try:
        await resolve_from_form(
            page.services.pool,
            page.t,
            account_id=account_id,
            complaint_id=complaint_id,
            form=typed,
            actor=page.actor,
        )
    except ComplaintFormInvalid as err:
        answer = {"ok": False, "message": str(err)}
        return await _render_account(page, account_id, status_code=422, answer=answer, forms=keep)
    except ComplaintNotOpen:
        message = page.t.gettext(
            "That complaint is not open: resolved already, or not this account's."
        )
        answer = {"ok": False, "message": message}
        return await _render_account(page, account_id, status_code=409, answer=answer)
    answer = {"ok": True, "message": page.t.gettext("Complaint resolved.")}
    return await _render_account(page, account_id, answer=answer)

"""An agent's work: the queue page, "next task", the task page and its outcome forms."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from api.console import dials
from api.console.calling_hours import CallingHours, calling_hours, workable_now
from api.console.context import Console, ConsoleError, CsrfForm, SignedIn, TaskWorker
from api.console.customer_forms import CUSTOMER_ACTIONS, customer_action, preferences_text
from api.console.outcomes import FormInvalid, perform
from api.console.reasons import refused_answer, status_money
from api.console.rendering import render
from api.console.revocation_form import after_action, build_action, revocation_view
from api.console.task_facts import task_facts
from api.console.task_view import mask_phone, submissions_view
from api.console.words import in_words
from api.workflow_calls import (
    ProcessNotRunning,
    UpdateRejected,
    account_handle,
    status_if_running,
)
from overdue.account_status import days_past_due_now, with_texts
from overdue.store import call_tasks, dial_attempts, risk_scores
from overdue.store.accounts import customer_phone, customer_reach
from overdue.store.agent_desk import (
    claimed_tasks,
    earlier_outcomes,
    last_outcome,
)
from overdue.store.audit import record_event
from overdue.store.call_tasks import CallTask, CallTaskConflict
from workflows.customer_state import VulnerabilityCategory
from workflows.types import AccountStatus

router = APIRouter(prefix="/console", include_in_schema=False)
logger = logging.getLogger(__name__)
TaskId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("")
async def home(page: SignedIn, empty: Annotated[bool, Query()] = False) -> Response:
    if not page.user.works_tasks:  # the mailroom role: its one page
        return RedirectResponse("/console/mailroom", status_code=303)
    tasks = await claimed_tasks(page.services.pool, page.actor)
    # An agent holds a handful of tasks: one small lookup each is fine.
    hours = {task.id: await _hours(page, task) for task in tasks}
    return render(page, "home.html", tasks=tasks, empty=empty, hours=hours)


@router.post("/tasks/next")
async def next_task(page: TaskWorker, _form: CsrfForm) -> Response:
    # Only customers inside their contact window now: a task created at 09:00 their time is
    # not worked at 23:00 their time.
    # ... and within the call caps, counted over the dial attempts recorded for their number.
    now = datetime.now(UTC)
    workable = workable_now(page.services.policy, now)
    task = await call_tasks.claim_next(
        page.services.pool, page.user.queue.value, page.actor, workable, now=now
    )
    if task is None:
        return RedirectResponse("/console?empty=1", status_code=303)
    return RedirectResponse(f"/console/tasks/{task.id}", status_code=303)


async def _task_for(page: Console, task_id: int, *, acting: bool) -> CallTask:
    """The task, if this user may see it (acting: may record on it). Else an error page."""
    task = await call_tasks.get(page.services.pool, task_id)
    if task is None:
        raise ConsoleError(404, "error.not_found")
    mine = task.claimed_by == page.actor
    if not mine and not (page.user.is_supervisor and not acting):
        raise ConsoleError(403, "error.claimed_by_other")
    if acting and task.status != "claimed":
        raise ConsoleError(409, "task.closed")
    return task


async def _hours(page: Console, task: CallTask) -> CallingHours | None:
    phone, time_zone = await customer_reach(page.services.pool, task.account_id)
    return calling_hours(page.services.policy, phone, time_zone, datetime.now(UTC))


def _outside_hours(page: Console, hours: CallingHours | None) -> str:
    """Why a call cannot be worked now ('' when it can)."""
    if hours is None:
        return page.t.gettext("The customer's time zone is unknown: no call can be worked.")
    return (
        ""
        if hours.open
        else page.t.gettext(
            "Outside the customer's calling hours until %(until)s (their time): "
            "no call outcome can be recorded now. You may release the task.",
            until=hours.from_text,
        )
    )


async def _render_task(
    page: Console,
    task: CallTask,
    *,
    status_code: int = 200,
    answer: dict[str, Any] | None = None,
    forms: dict[str, dict[str, str]] | None = None,
    current: AccountStatus | None = None,
    revealed: str | None = None,
) -> Response:
    pool = page.services.pool
    current = current or await status_if_running(page.services.temporal, task.account_id)
    current = current and await with_texts(pool, current)  # why it is paused
    phone = revealed or mask_phone(await customer_phone(pool, task.account_id))
    hours = await _hours(page, task)
    said = current.preferences if current else None
    dial = await dials.current_check(pool, page.services.policy, task, datetime.now(UTC), said)
    facts = await task_facts(page, task, current, hours, dial, datetime.now(UTC))
    return render(
        page,
        "task.html",
        status_code,
        task=task,
        status=current,
        days_past_due=days_past_due_now(current) if current else None,
        phone=phone,
        revealed=revealed is not None,
        can_act=task.status == "claimed" and task.claimed_by == page.actor,
        outcomes=await earlier_outcomes(pool, task.account_id),
        answer=answer,
        forms=forms or {},
        here=f"/console/tasks/{task.id}",
        hours=hours,
        outside_hours=_outside_hours(page, hours),
        dial_refused=dials.cap_refusal(page.t, dial),
        dial_outcomes=dials.OUTCOMES,
        dials=dials.rows(await dial_attempts.for_account(pool, task.account_id)),
        preferences_text=preferences_text(current),
        vulnerability_categories=[c.value for c in VulnerabilityCategory],
        revocation=await revocation_view(pool, current),
        submissions=await submissions_view(pool, task.account_id),
        score=await risk_scores.latest_score(pool, task.account_id),
        **facts,  # the customer and the debt (api/console/task_facts.py)
    )


@router.get("/tasks/{task_id}")
async def task_page(page: TaskWorker, task_id: TaskId) -> Response:
    return await _render_task(page, await _task_for(page, task_id, acting=False))


@router.post("/tasks/{task_id}/outcome")
async def record_outcome(page: TaskWorker, task_id: TaskId, form: CsrfForm) -> Response:
    task = await _task_for(page, task_id, acting=True)
    typed = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    keep = {typed.get("action", ""): typed}
    if typed.get("action") == "call":
        # A call outcome says we dialled now: refused outside the customer's window. Other
        # actions (a promise, a dispute) may come from the customer's own contact and stay.
        closed = _outside_hours(page, await _hours(page, task))
        if closed:
            answer = {"ok": False, "message": closed}
            return await _render_task(page, task, status_code=409, answer=answer, forms=keep)
    current = await status_if_running(page.services.temporal, task.account_id)
    if current is None:
        answer = {
            "ok": False,
            "message": page.t.gettext("The account's process has ended; nothing was recorded."),
        }
        return await _render_task(page, task, status_code=409, answer=answer, forms=keep)
    try:
        build = customer_action if typed.get("action") in CUSTOMER_ACTIONS else build_action
        action = build(typed, actor=page.actor, task_id=task.id, status=current)
    except FormInvalid as err:
        answer = refused_answer(page.t, str(err), rejection=False, money=status_money(current))
        return await _render_task(page, task, status_code=422, answer=answer, forms=keep)
    handle = account_handle(page.services.temporal, task.account_id)
    try:
        new_status = await perform(page.services.pool, handle, task.account_id, page.actor, action)
        await after_action(page.services.pool, task.account_id, page.actor, action)
    except UpdateRejected as err:
        answer = refused_answer(page.t, err.reason, rejection=True, money=status_money(current))
        return await _render_task(
            page, task, status_code=422, answer=answer, forms=keep, current=current
        )
    except ProcessNotRunning:
        answer = {
            "ok": False,
            "message": page.t.gettext("The account's process has ended; nothing was recorded."),
        }
        return await _render_task(page, task, status_code=409, answer=answer, forms=keep)
    logger.info("agent action recorded", extra={"task_id": task.id, "action": action.name})
    state = new_status.state.value if new_status else "?"
    answer = {
        "ok": True,
        "message": page.t.gettext(
            "Done. The account is now: %(state)s.", state=in_words(page.t, "state", state)
        ),
    }
    return await _render_task(page, task, answer=answer, current=new_status)


@router.post("/tasks/{task_id}/dials")
async def record_dial(page: TaskWorker, task_id: TaskId, form: CsrfForm) -> Response:
    """One dial attempt, refused (409, nothing recorded) outside the window or the caps."""
    task = await _task_for(page, task_id, acting=True)
    outcome = dials.parse_outcome(form)
    if outcome is None:
        answer = {"ok": False, "message": page.t.gettext("Choose one of the listed dial outcomes.")}
        return await _render_task(page, task, status_code=422, answer=answer)
    pool, policy = page.services.pool, page.services.policy
    # The customer's stated preferences (inconvenient times, no calls) are the workflow's.
    current = await status_if_running(page.services.temporal, task.account_id)
    said = current.preferences if current else None
    try:
        await dials.record_dial(pool, policy, task, page.actor, outcome, datetime.now(UTC), said)
    except dial_attempts.DialRefused as refused:
        answer = {"ok": False, "message": dials.refusal_text(page.t, refused.check)}
        return await _render_task(page, task, status_code=409, answer=answer)
    except dials.NoNumber:
        answer = {
            "ok": False,
            "message": page.t.gettext(
                "The customer has no phone number on record: nothing to dial."
            ),
        }
        return await _render_task(page, task, status_code=409, answer=answer)
    except dial_attempts.NotHeld as err:
        raise ConsoleError(409, "task.closed") from err
    logger.info("dial attempt recorded", extra={"task_id": task.id, "outcome": outcome.value})
    answer = {"ok": True, "message": page.t.gettext("Dial attempt recorded.")}
    return await _render_task(page, task, answer=answer)


@router.post("/tasks/{task_id}/reveal-phone")
async def reveal_phone(page: TaskWorker, task_id: TaskId, _form: CsrfForm) -> Response:
    task = await _task_for(page, task_id, acting=True)
    async with page.services.pool.acquire() as conn, conn.transaction():
        phone = await customer_phone(conn, task.account_id)
        await record_event(
            conn,
            account_id=task.account_id,
            actor=page.actor,
            kind="contact.phone_revealed",
            details={"task_id": task.id},
        )
    return await _render_task(page, task, revealed=phone or "—")


@router.post("/tasks/{task_id}/finish")
async def finish_task(page: TaskWorker, task_id: TaskId, _form: CsrfForm) -> Response:
    task = await _task_for(page, task_id, acting=True)
    outcome = await last_outcome(page.services.pool, task.id, page.actor) or "no_outcome"
    try:
        await call_tasks.complete(page.services.pool, task.id, page.actor, outcome[:64])
    except CallTaskConflict as err:
        raise ConsoleError(409, "task.closed") from err
    return RedirectResponse("/console", status_code=303)


@router.post("/tasks/{task_id}/release")
async def release_task(page: TaskWorker, task_id: TaskId, _form: CsrfForm) -> Response:
    task = await _task_for(page, task_id, acting=True)
    try:
        await call_tasks.release(page.services.pool, task.id, page.actor)
    except CallTaskConflict as err:
        raise ConsoleError(409, "task.closed") from err
    return RedirectResponse("/console", status_code=303)

"""Agent and supervisor actions from console forms: parse what was typed, send it to the
account's workflow, record it in the audit trail.

Parsing is pure and raises `FormInvalid` with a message for the person. Sending goes through
the workflow's validated updates (or a signal for hardship and disputes, which backends may
report too); a validator's refusal arrives as `UpdateRejected`. The audit row is written in the
same transaction, so a refused action leaves no trace.

What the person typed (a reason, a note) is kept in Postgres (`free_texts`) in that
transaction; the workflow and the audit row get only its `text_id`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from pydantic import ValidationError

from api.workflow_calls import AccountHandle, ProcessNotRunning, UpdateRejected, to_running
from overdue.inputs import MAX_MINOR, check_date, check_instant, control_character_in
from overdue.store import free_texts
from overdue.store.audit import record_event
from overdue.store.free_texts import FreeText, new_text
from workflows.currencies import minor_unit_exponent
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import (
    AccountStatus,
    CallOutcome,
    CallOutcomeKind,
    DisputeOpened,
    Escalation,
    HardshipDecision,
    HardshipReported,
    Instalment,
    PauseRequest,
    PromiseToPay,
    ResumeRequest,
)

AGENT_ACTIONS = ("call", "promise", "hardship", "dispute", "escalate")
SUPERVISOR_ACTIONS = ("pause", "resume", "hardship_decision")
SIGNAL_SETTLE_SECONDS = 3.0


class FormInvalid(ValueError):
    """What the person typed cannot be sent; the message says what to correct."""


Send = Callable[[AccountHandle], Awaitable[AccountStatus | None]]


@dataclass(frozen=True)
class Action:
    """One thing to do to an account: what to send, and what to write in the audit trail."""

    name: str
    audit_kind: str
    send: Send
    audit_details: dict[str, Any] = field(default_factory=dict)
    text: FreeText | None = None  # what was typed; kept in Postgres, referred to by its id


def _text(
    form: Mapping[str, str],
    name: str,
    *,
    required: bool = True,
    limit: int = 500,
    lines: bool = False,
) -> str:
    value = (form.get(name) or "").strip()
    if required and not value:
        raise FormInvalid(f"{name} is required")
    if len(value) > limit:
        raise FormInvalid(f"{name} is longer than {limit} characters")
    if control_character_in(value, lines_allowed=lines):
        raise FormInvalid(f"{name} must not contain control characters")
    return value


def _typed(
    form: Mapping[str, str],
    name: str,
    kind: str,
    *,
    required: bool = True,
    limit: int = 500,
    lines: bool = False,
) -> FreeText | None:
    """What the person typed in `name`, to keep in Postgres (None when left empty)."""
    value = _text(form, name, required=required, limit=limit, lines=lines)
    return new_text(kind, value) if value else None


def _id(text: FreeText | None) -> str | None:
    return text.id if text else None


def _ref(details: dict[str, Any], text: FreeText | None) -> dict[str, Any]:
    """The audit row's details, referring to the text by id (the text is joined back on read)."""
    return {**details, "text_id": text.id} if text else details


def parse_amount(text: str, currency: str) -> int:
    """'1234.56' CNY -> 123456 minor units; refuses more decimals than the currency has."""
    try:
        amount = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise FormInvalid(f"amount {text!r} is not a number") from None
    exponent = minor_unit_exponent(currency)
    minor = amount.scaleb(exponent)
    if not amount.is_finite() or minor != minor.to_integral_value() or minor <= 0:
        raise FormInvalid(f"amount must be positive with at most {exponent} decimals")
    if minor > MAX_MINOR:
        raise FormInvalid("amount is too large")
    return int(minor)


def parse_date(text: str, name: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise FormInvalid(f"{name} must be a date (YYYY-MM-DD)") from None
    try:
        return check_date(day)
    except ValueError as err:
        raise FormInvalid(f"{name} {err}") from None


def parse_local_datetime(text: str, time_zone: str) -> datetime:
    """A datetime-local value, read in the customer's time zone, as an aware UTC time."""
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FormInvalid("callback_at must be a date and time") from None
    if local.tzinfo is not None:
        raise FormInvalid("callback_at must be a local time, without an offset")
    try:
        return check_instant(local.replace(tzinfo=ZoneInfo(time_zone))).astimezone(UTC)
    except ValueError as err:
        raise FormInvalid(f"callback_at {err}") from None


def parse_plan(text: str, currency: str) -> list[Instalment]:
    plan = []
    for line in text.strip().splitlines():
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise FormInvalid(f"plan line {line!r}: write 'YYYY-MM-DD amount'")
        plan.append(
            Instalment(
                due_date=parse_date(parts[0], "instalment date"),
                amount_minor=parse_amount(parts[1], currency),
            )
        )
    return plan


def _update(method: Any, argument: Any) -> Send:
    async def send(handle: AccountHandle) -> AccountStatus | None:
        answer: AccountStatus = await handle.execute_update(method, argument)
        return answer

    return send


def _signal_then_status(method: Any, argument: Any) -> Send:
    """Signals have no answer: send, then read the status once the workflow has taken it."""

    async def send(handle: AccountHandle) -> AccountStatus | None:
        before = await handle.query(OverdueAccountWorkflow.status)
        await handle.signal(method, argument)
        deadline = asyncio.get_running_loop().time() + SIGNAL_SETTLE_SECONDS
        while True:
            after = await handle.query(OverdueAccountWorkflow.status)
            if after.state != before.state or asyncio.get_running_loop().time() > deadline:
                return after
            await asyncio.sleep(0.2)

    return send


def agent_action(
    form: Mapping[str, str], *, actor: str, task_id: int, status: AccountStatus
) -> Action:
    """The action an agent's outcome form asks for. Notes stay in Postgres, not the workflow."""
    name = form.get("action", "")
    build = _AGENT_FORMS.get(name)
    if build is None:
        raise FormInvalid(f"unknown action {name!r}")
    try:
        return build(form, actor, task_id, status)
    except ValidationError as err:
        raise FormInvalid(_first_error(err)) from None
    except ValueError as err:
        if isinstance(err, FormInvalid):
            raise
        raise FormInvalid(str(err)) from None


def _call_outcome(
    form: Mapping[str, str], actor: str, task_id: int, status: AccountStatus
) -> Action:
    kind = CallOutcomeKind(_text(form, "outcome"))
    note = _typed(form, "note", "call.note", required=False, limit=1000, lines=True)
    callback_text = _text(form, "callback_at", required=False)
    callback_at = (
        parse_local_datetime(callback_text, status.time_zone)
        if kind is CallOutcomeKind.CALLBACK_REQUESTED and callback_text
        else None
    )
    outcome = CallOutcome(
        actor=actor, task_id=task_id, outcome=kind, callback_at=callback_at, text_id=_id(note)
    )
    details: dict[str, Any] = {"task_id": task_id, "outcome": kind.value}
    if callback_at:
        details["callback_at"] = callback_at.isoformat()
    return Action(
        "call",
        "call.outcome",
        _update(OverdueAccountWorkflow.record_call_outcome, outcome),
        _ref(details, note),
        note,
    )


def _promise(form: Mapping[str, str], actor: str, task_id: int, status: AccountStatus) -> Action:
    promise = PromiseToPay(
        actor=actor,
        amount_minor=parse_amount(_text(form, "amount"), status.currency),
        promised_date=parse_date(_text(form, "promised_date"), "promised_date"),
    )
    return Action(
        "promise",
        "promise.recorded",
        _update(OverdueAccountWorkflow.promise_to_pay, promise),
        {
            "task_id": task_id,
            "amount_minor": promise.amount_minor,
            "promised_date": promise.promised_date.isoformat(),
        },
    )


def _hardship(form: Mapping[str, str], actor: str, task_id: int, status: AccountStatus) -> Action:
    reason = _typed(form, "reason", "hardship.reason")
    report = HardshipReported(
        report_id=f"console-{task_id}-{uuid.uuid4().hex[:12]}",
        text_id=_id(reason),
        reported_at=datetime.now(UTC),
    )
    return Action(
        "hardship",
        "hardship.reported",
        _signal_then_status(OverdueAccountWorkflow.report_hardship, report),
        _ref({"task_id": task_id, "report_id": report.report_id}, reason),
        reason,
    )


def _dispute(form: Mapping[str, str], actor: str, task_id: int, status: AccountStatus) -> Action:
    reason = _typed(form, "reason", "dispute.reason")
    dispute = DisputeOpened(
        dispute_id=f"console-{task_id}-{uuid.uuid4().hex[:12]}", text_id=_id(reason)
    )
    return Action(
        "dispute",
        "dispute.opened",
        _signal_then_status(OverdueAccountWorkflow.open_dispute, dispute),
        _ref({"task_id": task_id, "dispute_id": dispute.dispute_id}, reason),
        reason,
    )


def _escalation(form: Mapping[str, str], actor: str, task_id: int, status: AccountStatus) -> Action:
    reason = _typed(form, "reason", "escalation.reason")
    escalation = Escalation(actor=actor, text_id=_id(reason))
    return Action(
        "escalate",
        "account.escalated",
        _update(OverdueAccountWorkflow.escalate, escalation),
        _ref({"task_id": task_id}, reason),
        reason,
    )


AgentForm = Callable[[Mapping[str, str], str, int, AccountStatus], Action]
_AGENT_FORMS: dict[str, AgentForm] = {
    "call": _call_outcome,
    "promise": _promise,
    "hardship": _hardship,
    "dispute": _dispute,
    "escalate": _escalation,
}
assert tuple(_AGENT_FORMS) == AGENT_ACTIONS


def supervisor_action(form: Mapping[str, str], *, actor: str, status: AccountStatus) -> Action:
    name = form.get("action", "")
    try:
        if name in ("pause", "resume"):
            reason = _typed(form, "reason", f"{name}.reason")
            if name == "pause":
                send = _update(
                    OverdueAccountWorkflow.pause, PauseRequest(actor=actor, text_id=_id(reason))
                )
            else:
                send = _update(
                    OverdueAccountWorkflow.resume,
                    ResumeRequest(actor=actor, text_id=_id(reason)),
                )
            return Action(name, f"account.{name}d", send, _ref({}, reason), reason)
        if name == "hardship_decision":
            approve = form.get("decision") == "approve"
            plan = parse_plan(form.get("plan", ""), status.currency) if approve else []
            reason = _typed(form, "reason", "hardship.decision", required=False)
            decision = HardshipDecision(
                actor=actor, approve=approve, plan=plan, text_id=_id(reason)
            )
            return Action(
                name,
                "hardship.decided",
                _update(OverdueAccountWorkflow.decide_hardship, decision),
                # The plan's dates and amounts let the reports tell kept from broken plans.
                _ref({"approve": approve, "instalments": len(plan), "plan": _plan(plan)}, reason),
                reason,
            )
    except ValidationError as err:
        raise FormInvalid(_first_error(err)) from None
    raise FormInvalid(f"unknown action {name!r}")


def _plan(plan: list[Instalment]) -> list[dict[str, Any]]:
    return [{"due_date": i.due_date.isoformat(), "amount_minor": i.amount_minor} for i in plan]


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


async def perform(
    pool: asyncpg.Pool, handle: AccountHandle, account_id: str, actor: str, action: Action
) -> AccountStatus | None:
    """Send the action, then record it. Raises UpdateRejected/ProcessNotRunning, and then
    nothing stays recorded.

    No transaction is held across the Temporal call: the text the update refers to is kept
    first (and dropped if the workflow refuses), the audit row written once it accepted. A
    commit that fails after the workflow accepted loses that row either way."""
    if action.text is not None:
        await free_texts.keep(pool, account_id, action.text)
    try:
        status = await to_running(lambda: action.send(handle))
    except (UpdateRejected, ProcessNotRunning):
        if action.text is not None:
            await free_texts.forget(pool, action.text.id)
        raise
    await record_event(
        pool,
        account_id=account_id,
        actor=actor,
        kind=action.audit_kind,
        details=action.audit_details,
    )
    return status

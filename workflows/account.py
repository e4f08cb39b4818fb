"""An account's process state and how events change it. Pure: no Temporal, no I/O.

The workflow keeps one `AccountRecord`, applies events to it with the functions here, and
carries it across continue-as-new. The state shown to people (`AccountRecord.state`) is
derived from the facts, so there is no "state to return to" to get wrong after a pause.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from workflows.contact_rules import Contact, at_local, local_date
from workflows.customer_rules import plan_rules, promise_rules
from workflows.plan_schedule import plan_problem
from workflows.policy import CallQueue, Stage
from workflows.types import (
    AccountRecord,
    AccountState,
    CallOutcome,
    CallOutcomeKind,
    ContactCeased,
    ContactEntry,
    DisputeClosed,
    DisputeOpened,
    Escalation,
    HardshipDecision,
    HardshipReported,
    Instalment,
    OverdueAmountReported,
    PauseRequest,
    PauseState,
    PaymentReported,
    PlanState,
    PromiseState,
    PromiseToPay,
    ResumeRequest,
    SmsConsentChanged,
)


class RequestRejected(ValueError):
    """An agent's request that cannot be accepted as it is; the message says why."""


def contact_history(record: AccountRecord) -> list[Contact]:
    """The record's contacts as the cap rules count them: SMS and calls (a suppressed stage
    records no contact, so there is nothing to leave out)."""
    return [
        Contact(kind="sms" if c.channel == "sms" else "call", at=c.at, conversation=c.conversation)
        for c in record.contacts
        if c.channel in ("sms", "call")
    ]


# --- time helpers ------------------------------------------------------------------------


def end_of_local_day(day: date, time_zone: str) -> datetime:
    return at_local(day + timedelta(days=1), time.min, time_zone)


def promise_deadline(record: AccountRecord) -> datetime | None:
    if record.promise is None:
        return None
    grace = record.policy.promise.grace_days
    return end_of_local_day(record.promise.promised_date + timedelta(days=grace), record.time_zone)


def instalment_deadline(record: AccountRecord, instalment: Instalment) -> datetime:
    grace = record.policy.hardship.grace_days
    return end_of_local_day(instalment.due_date + timedelta(days=grace), record.time_zone)


def first_unpaid_instalment(record: AccountRecord) -> tuple[int, Instalment] | None:
    if record.plan is None:
        return None
    cumulative = 0
    for index, instalment in enumerate(record.plan.instalments):
        cumulative += instalment.amount_minor
        if record.plan.paid_minor < cumulative:
            return index, instalment
    return None


# --- events from backends (signals): never rejected, always idempotent --------------------


def apply_payment(record: AccountRecord, payment: PaymentReported) -> bool:
    """Returns whether anything changed (a replayed payment id changes nothing)."""
    if payment.payment_id in record.payments_seen or payment.currency != record.currency:
        return False
    record.payments_seen.append(payment.payment_id)
    record.balance_minor = max(0, record.balance_minor - payment.amount_minor)
    if record.promise is not None:
        record.promise.paid_since_minor += payment.amount_minor
        if record.promise.paid_since_minor >= record.promise.amount_minor:
            record.note("promise kept")
            record.promise = None
    if record.plan is not None:
        record.plan.paid_minor += payment.amount_minor
    if record.balance_minor == 0:
        record.cancel_open_tasks = True
    return True


def apply_new_bill(record: AccountRecord, bill: OverdueAmountReported) -> bool:
    if bill.bill_id in record.bills_seen or bill.currency != record.currency:
        return False
    record.bills_seen.append(bill.bill_id)
    record.balance_minor += bill.amount_minor
    record.note(f"new bill {bill.bill_id}")
    return True


def _said(note: str, legacy_text: str) -> str:
    """A note, with the text typed only where an old history's message carried one: what is
    typed now stays in Postgres (the message's `text_id`), never in the record."""
    return f"{note}: {legacy_text}" if legacy_text else note


def apply_hardship_report(record: AccountRecord, report: HardshipReported, now: datetime) -> bool:
    if report.report_id in record.hardship_reports:
        return False
    record.hardship_reports.append(report.report_id)
    if record.hardship_pending:
        return True  # one review at a time; the report is kept
    record.hardship_pending = True
    record.request_task(
        "hardship_review", CallQueue.SPECIALIST, record.policy.hardship.review_priority, now
    )
    record.note("hardship reported: specialist review")
    return True


def apply_dispute_opened(record: AccountRecord, dispute: DisputeOpened) -> bool:
    if dispute.dispute_id in record.open_disputes:
        return False
    record.open_disputes.append(dispute.dispute_id)
    record.note(f"dispute {dispute.dispute_id} opened")
    return True


def apply_dispute_closed(record: AccountRecord, dispute: DisputeClosed) -> bool:
    if dispute.dispute_id not in record.open_disputes:
        return False
    record.open_disputes.remove(dispute.dispute_id)
    record.note(_said(f"dispute {dispute.dispute_id} closed", dispute.resolution))
    return True


def apply_cease_contact(record: AccountRecord, request: ContactCeased) -> bool:
    if record.contact_ceased:
        return False
    record.contact_ceased = True
    if not record.policy.calls_after_cease:
        record.cancel_open_tasks = True
    record.note("contact ceased")
    return True


def apply_sms_consent(record: AccountRecord, change: SmsConsentChanged) -> bool:
    """Apply a consent change; a versioned one only when newer than the last applied, so a
    late or redelivered signal never undoes a later change. Unversioned signals (old senders,
    old histories) apply as before: no running workflow's replay changes."""
    if change.version is not None:
        if record.sms_consent_version is not None and change.version <= record.sms_consent_version:
            return False
        record.sms_consent_version = change.version
    if record.sms_opted_out == change.opted_out:
        return False
    record.sms_opted_out = change.opted_out
    record.note(f"sms {'opted out' if change.opted_out else 'opted in'} ({change.source})")
    return True


# --- requests from agents (updates): validated first, then applied -----------------------


def _require_open(record: AccountRecord) -> None:
    if record.finished:
        raise RequestRejected(f"the account is {record.state.value}; nothing more can be recorded")


def validate_call_outcome(record: AccountRecord, outcome: CallOutcome, now: datetime) -> None:
    _require_open(record)
    if outcome.outcome is CallOutcomeKind.CALLBACK_REQUESTED:
        if outcome.callback_at is None:
            raise RequestRejected("callback_at is required for callback_requested")
        if outcome.callback_at <= now:
            raise RequestRejected("callback_at must be in the future")
        if outcome.callback_at > now + timedelta(days=14):
            raise RequestRejected("callback_at must be within 14 days")
    elif outcome.callback_at is not None:
        raise RequestRejected("callback_at is only for callback_requested")


def apply_call_outcome(record: AccountRecord, outcome: CallOutcome, now: datetime) -> None:
    kind = outcome.outcome
    # An outcome of a task we created was already counted as a call attempt when created.
    if outcome.task_id is None or kind is CallOutcomeKind.REACHED:
        record.record_contact(
            ContactEntry(
                channel="call",
                stage_id=f"task_{outcome.task_id}" if outcome.task_id else "agent_call",
                at=now,
                outcome=kind.value,
                conversation=kind is CallOutcomeKind.REACHED,
                actor=outcome.actor,
            )
        )
    if kind is CallOutcomeKind.WRONG_NUMBER:
        record.wrong_number = True
        record.cancel_open_tasks = True
    elif kind is CallOutcomeKind.COMPLAINT:
        if not record.escalated:
            record.escalated = True
            record.request_task("complaint_review", CallQueue.SUPERVISOR, 90, now)
    elif kind is CallOutcomeKind.CALLBACK_REQUESTED:
        assert outcome.callback_at is not None
        record.request_task("callback", CallQueue.GENERAL, 60, outcome.callback_at)
    record.note(f"call outcome {kind.value} by {outcome.actor}")


def validate_promise(record: AccountRecord, promise: PromiseToPay, now: datetime) -> None:
    _require_open(record)
    if record.state not in (AccountState.ACTIVE, AccountState.ESCALATED):
        raise RequestRejected(
            f"a promise cannot be taken while the account is {record.state.value}"
        )
    rules = promise_rules(record)  # a vulnerable customer's limits, where the policy has them
    today = local_date(now, record.time_zone)
    latest = today + timedelta(days=rules.max_days)
    if promise.promised_date < today:
        raise RequestRejected(f"promised_date {promise.promised_date} is in the past")
    if promise.promised_date > latest:
        raise RequestRejected(
            f"promised_date must be at most {rules.max_days} days ahead (by {latest})"
        )
    if promise.amount_minor > record.balance_minor:
        raise RequestRejected(f"amount exceeds the balance of {record.balance_minor}")
    minimum = -(-record.balance_minor * rules.min_percent // 100)  # ceiling
    if promise.amount_minor < minimum:
        raise RequestRejected(
            f"amount must be at least {rules.min_percent}% of the balance ({minimum})"
        )


def apply_promise(record: AccountRecord, promise: PromiseToPay, now: datetime) -> None:
    record.promise = PromiseState(
        amount_minor=promise.amount_minor,
        promised_date=promise.promised_date,
        made_at=now,
        actor=promise.actor,
    )
    record.note(f"promise to pay {promise.amount_minor} by {promise.promised_date}")


def validate_hardship_decision(
    record: AccountRecord, decision: HardshipDecision, now: datetime
) -> None:
    _require_open(record)
    if not record.hardship_pending:
        raise RequestRejected("there is no hardship report waiting for a decision")
    if not decision.approve:
        if decision.plan:
            raise RequestRejected("a rejected hardship request takes no plan")
        return
    # The same check the console's plan calculator shows before a plan is proposed.
    rules = plan_rules(record)  # a vulnerable customer's limits, where the policy has them
    today = local_date(now, record.time_zone)
    problem = plan_problem(decision.plan, rules, today, record.balance_minor)
    if problem is not None:
        raise RequestRejected(problem.message)


def apply_hardship_decision(
    record: AccountRecord, decision: HardshipDecision, now: datetime
) -> None:
    record.hardship_pending = False
    if decision.approve:
        record.plan = PlanState(
            instalments=list(decision.plan), approved_at=now, actor=decision.actor
        )
        record.note(f"hardship approved by {decision.actor}: {len(decision.plan)} instalments")
    else:
        record.note(f"hardship rejected by {decision.actor}")


def validate_escalation(record: AccountRecord, escalation: Escalation) -> None:
    _require_open(record)
    if record.escalated:
        raise RequestRejected("the account is already escalated")


def apply_escalation(record: AccountRecord, escalation: Escalation, now: datetime) -> None:
    record.escalated = True
    record.request_task("supervisor_review", CallQueue.SUPERVISOR, 90, now)
    record.note(_said(f"escalated by {escalation.actor}", escalation.reason))


def validate_pause(record: AccountRecord, request: PauseRequest) -> None:
    _require_open(record)
    if record.pause is not None:
        raise RequestRejected(f"already paused by {record.pause.actor} since {record.pause.since}")


def apply_pause(record: AccountRecord, request: PauseRequest, now: datetime) -> None:
    record.pause = PauseState(
        actor=request.actor, reason=request.reason, text_id=request.text_id, since=now
    )
    record.note(_said(f"paused by {request.actor}", request.reason))


def validate_resume(record: AccountRecord, request: ResumeRequest) -> None:
    _require_open(record)
    if record.pause is None:
        raise RequestRejected("the account is not paused")


def apply_resume(record: AccountRecord, request: ResumeRequest) -> None:
    record.pause = None
    record.note(_said(f"resumed by {request.actor}", request.reason))


def apply_pause_by_ops(record: AccountRecord, request: PauseRequest, now: datetime) -> bool:
    """A pause from an ops batch job (a signal, which cannot be rejected): one the `pause`
    request would reject is ignored, and noted. Returns whether anything changed."""
    try:
        validate_pause(record, request)
    except RequestRejected as err:
        record.note(f"pause by {request.actor} ignored: {err}")
        return False
    apply_pause(record, request, now)
    return True


def apply_resume_by_ops(record: AccountRecord, request: ResumeRequest) -> bool:
    """A resume from an ops batch job: ignored, and noted, where `resume` would reject it."""
    try:
        validate_resume(record, request)
    except RequestRejected as err:
        record.note(f"resume by {request.actor} ignored: {err}")
        return False
    apply_resume(record, request)
    return True


# --- time-driven transitions ------------------------------------------------------------


def break_promise(record: AccountRecord, passed: set[str]) -> None:
    record.promise = None
    record.note("promise broken")
    reopen_broken_promise_stage(record, passed)


def break_plan(record: AccountRecord, passed: set[str]) -> None:
    record.plan = None
    record.note("repayment plan broken: instalment missed")
    reopen_broken_promise_stage(record, passed)


def reopen_broken_promise_stage(record: AccountRecord, passed: set[str]) -> None:
    """Resume at the policy's broken-promise stage: it acts again now; the other stages whose
    time passed meanwhile are passed over (no burst), and later ones follow as usual."""
    stage_id = record.policy.broken_promise_stage
    if stage_id is None:
        return
    index = [s.id for s in record.policy.stages].index(stage_id)
    over = {s.id for s in record.policy.stages[:index]} | (passed - {stage_id})
    record.handled = [s for s in record.handled if s != stage_id]
    record.handled += sorted(over - set(record.handled))


def mark_handled(record: AccountRecord, stage: Stage) -> None:
    if stage.id not in record.handled:
        record.handled.append(stage.id)

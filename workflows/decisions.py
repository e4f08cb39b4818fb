"""The pure decision core: what happens next for an account, and when.

No Temporal, no I/O. The workflow calls `next_step` after every timer and every event, so the
answer always comes from the current state, never from the order in which timers fired.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from workflows import consent_rules, forbearance, review_deadlines, revocation
from workflows import stage_validity as validity_rules
from workflows.account import (
    break_plan,
    break_promise,
    contact_history,
    first_unpaid_instalment,
    instalment_deadline,
    mark_handled,
    promise_deadline,
)
from workflows.calendars import ChannelCalendar
from workflows.contact_rules import at_local, earliest_allowed
from workflows.customer_rules import convenient_at, customer_blocked, passed_over, refused_reason
from workflows.policy import Channel, ContactWindow, NotifyKind, Stage
from workflows.rest_days import contact_calendar, deferral_reason, stage_calendar
from workflows.revocation import RevocationOverdue
from workflows.stage_times import anchor_time as anchor_time
from workflows.stage_times import contact_key as contact_key
from workflows.stage_times import days_past_due as days_past_due
from workflows.stage_times import stage_time as stage_time
from workflows.steps import (
    Act,
    BreakPlan,
    BreakPromise,
    Finished,
    PassOver,
    PlanCompleted,
    RemindInstalment,
    ReviewOverdue,
    SettlementLapsed,
    Step,
    Suppress,
    WaitForEvents,
    WaitUntil,
)
from workflows.types import AccountRecord, AccountState
from workflows.wakes import wake_for_deadlines

# Notifications the customer receives directly obey contact hours; internal ones do not.
_CUSTOMER_FACING = {NotifyKind.APP_NOTICE, NotifyKind.EMAIL}
# The notices a cease-contact request stops (the pre-send check applies the same set).
CEASE_BLOCKED_NOTICES = frozenset({NotifyKind.APP_NOTICE, NotifyKind.EMAIL, NotifyKind.LETTER})
# How far past its grace an earlier stage, deferred by contact hours or caps, is looked at again
# (and then skipped): the latest stage does not wait longer than that behind it.
_PAST_GRACE = timedelta(seconds=1)


def channel_rules(record: AccountRecord, stage: Stage) -> tuple[str | None, ContactWindow | None]:
    """(cap kind, contact window) that apply to acting on `stage`."""
    window = record.policy.window_for(record.jurisdiction)
    if stage.channel is Channel.SMS:
        return "sms", window
    if stage.channel is Channel.CALL_TASK:
        return "call", window
    return None, window if stage.kind in _CUSTOMER_FACING else None


def blocked_reason(record: AccountRecord, stage: Stage) -> str | None:
    """Why this customer may not be contacted on the stage's channel, if they may not."""
    refused = customer_blocked(record, stage)  # their own word, or the vulnerable section's
    if refused is not None:
        return refused
    no_consent = consent_rules.missing(record, stage)  # the policy's consent_required
    if no_consent is not None:
        return no_consent
    if stage.channel is Channel.SMS:
        for flag, reason in (
            (record.sms_opted_out, "sms_opted_out"),
            (record.contact_ceased, "contact_ceased"),
            (record.wrong_number, "wrong_number"),
            (record.sms_unreachable, "sms_unreachable"),
            (revocation.pending(record) is not None, "revocation_pending"),
        ):
            if flag:
                return reason
        return None
    if stage.channel is Channel.CALL_TASK:
        if record.wrong_number:
            return "wrong_number"
        if record.contact_ceased and not record.policy.calls_after_cease:
            return "contact_ceased"
        return None
    if record.contact_ceased and stage.kind in CEASE_BLOCKED_NOTICES:
        return "contact_ceased"
    return None


def contact_rules_at(
    record: AccountRecord,
    window: ContactWindow | None,
    kind: str | None,
    calendar: ChannelCalendar | None = None,
) -> Callable[[datetime], datetime | None]:
    """The earliest instant at or after a given one inside the window (and the calendar's
    rule on rest days) and within caps."""
    history = contact_history(record)

    def allowed(t: datetime) -> datetime | None:
        return earliest_allowed(
            window=window,
            caps=record.policy.caps,
            kind=kind,
            history=history,
            time_zone=record.time_zone,
            t=t,
            calendar=calendar,
        )

    return allowed


def allowed_at(
    record: AccountRecord, stage: Stage, now: datetime, *, calendar: bool = True
) -> datetime | None:
    kind, window = channel_rules(record, stage)
    rules = stage_calendar(record, stage) if calendar else None
    allowed = contact_rules_at(record, window, kind, rules)
    # What reaches the customer (it has a window) also avoids their inconvenient times.
    return convenient_at(record, allowed, kind=kind, customer_facing=window is not None, now=now)


def passed_stage_ids(record: AccountRecord, now: datetime) -> set[str]:
    return {
        s.id
        for s in record.policy.stages
        if stage_time(s, record.anchor_at, record.time_zone, record.policy) <= now
    }


def next_step(record: AccountRecord, now: datetime) -> Step:
    """What is next, under the current rules."""
    return _next_step(record, now, validity=True)


def next_step_before_compliance(record: AccountRecord, now: datetime) -> Step:
    """What was next under the rules before release compliance-2026-12 (no stage ends, no
    written notice): the workflow follows them where an old history did (workflows/patches.py)."""
    return _next_step(record, now, validity=False)


def _next_step(record: AccountRecord, now: datetime, validity: bool) -> Step:
    if record.finished:
        return Finished()
    if revocation.overdue(record, now):
        return RevocationOverdue()
    late_review = review_deadlines.overdue(record, now)  # a dispute not reviewed in time
    if late_review is not None:
        return late_review
    return wake_for_deadlines(record, _state_step(record, now, validity))


def _state_step(record: AccountRecord, now: datetime, validity: bool) -> Step:
    state = record.state
    if state in (AccountState.PAUSED, AccountState.DISPUTED, AccountState.HARDSHIP_REVIEW):
        return WaitForEvents(reason=state.value)
    held = forbearance.step(record, now)  # a settlement or a payment holiday in force
    if held is not None:
        return held
    if state is AccountState.PROMISE:
        deadline = promise_deadline(record)
        assert deadline is not None
        if now >= deadline:
            return BreakPromise()
        return WaitUntil(at=deadline, label="Promise to pay: check at the date plus grace")
    if state is AccountState.REPAYMENT_PLAN:
        return _plan_step(record, now)
    return _stage_step(record, now, validity)


def _stage_step(record: AccountRecord, now: datetime, validity: bool = True) -> Step:
    """`validity`: the stage-validity rules (workflows/stage_validity.py); without them, the
    rules before release compliance-2026-12, which old histories replay."""
    policy = record.policy
    times = {s.id: stage_time(s, record.anchor_at, record.time_zone, policy) for s in policy.stages}
    pending = [s for s in policy.stages if s.id not in record.handled]
    due = [s for s in pending if times[s.id] <= now]
    ended = validity_rules.expired(record, due, times, now) if validity else ()
    if ended:  # passed over as soon as seen, whatever else is due
        return PassOver(stages=(), expired=ended)
    if due:
        return _due_step(record, now, due, times, validity)
    if pending:
        first = pending[0]
        return WaitUntil(at=times[first.id], label=first.label, stage=first)
    return WaitForEvents(reason="every stage done; waiting for payment")


def _due_step(
    record: AccountRecord,
    now: datetime,
    due: list[Stage],
    times: dict[str, datetime],
    validity: bool,
) -> Step:
    applies = [
        s
        for s in due
        if s.applies_to(
            balance_minor=record.balance_minor,
            product=record.product,
            risk_segment=record.risk_segment,
        )
    ]
    applies = [s for s in applies if not passed_over(record, s)]  # vulnerable: skipped
    not_applicable = tuple(s for s in due if s not in applies)
    if not applies:
        return PassOver(stages=not_applicable)
    # Catch-up: the latest due stage acts (stages due at that same instant follow one by
    # one). An earlier due stage is skipped if it came due more than `catch_up_grace` before
    # now, so a late start or the end of a pause never sends a burst of missed stages; one
    # that came due within the grace (a short worker outage or a backlog) is not lost: it
    # acts first, oldest first (ties in list order), one per step. Grace 0: only the latest.
    # The written notice, while unsent, is never skipped: a late start begins there.
    grace = record.policy.catch_up_grace
    keep = validity_rules.unskippable(record) if validity else None
    latest = max(times[s.id] for s in applies)
    skipped = tuple(
        s for s in applies if times[s.id] < latest and now - times[s.id] > grace and s.id != keep
    )
    kept = [s for s in applies if s.id not in {k.id for k in skipped}]
    current = min(kept, key=lambda s: times[s.id])  # the first of the oldest, in list order
    passed = {"skipped": skipped, "not_applicable": not_applicable}
    reason = blocked_reason(record, current)
    acting = current
    if reason is None and validity:
        acting, reason = _notice_first(record, current)
    if reason is not None:
        return Suppress(current, reason, **passed)
    at = allowed_at(record, acting, now)
    if at is None:
        if acting is not current:  # the notice can never go: no call without it
            return Suppress(current, validity_rules.no_notice_reason("cap_is_zero"), **passed)
        return Suppress(current, "cap_is_zero", **passed)
    if at > now:
        if times[current.id] < latest and current.id != keep:
            # An earlier stage deferred past its grace will be skipped then; look again
            # when its grace is over, so the latest stage never waits longer behind it.
            at = min(at, times[current.id] + grace + _PAST_GRACE)
        if validity:  # by the end of the stage deferred, or of the call it goes before
            at = validity_rules.wake_by_end(record, acting, times, at)
            at = validity_rules.wake_by_end(record, current, times, at)
        why = deferral_reason(
            record,
            stage_calendar(record, acting),
            at,
            allowed_at(record, acting, now, calendar=False),
        )
        return WaitUntil(at=at, label=f"{acting.label}: deferred ({why})", stage=acting)
    return Act(acting, **passed)


def _notice_first(record: AccountRecord, current: Stage) -> tuple[Stage, str | None]:
    """The stage to act on instead of `current`: the written notice before a call, unless it
    cannot go, which suppresses the call (why, in stage_validity's docstring)."""
    notice = validity_rules.notice_owed(record, current)
    if notice is None:
        return current, None
    blocked = blocked_reason(record, notice)
    if blocked is not None:
        return current, validity_rules.no_notice_reason(blocked)
    if validity_rules.notice_refused(record, notice):
        return current, validity_rules.no_notice_reason("refused")
    return notice, None


def _plan_step(record: AccountRecord, now: datetime) -> Step:
    assert record.plan is not None
    unpaid = first_unpaid_instalment(record)
    if unpaid is None:
        return PlanCompleted()
    index, instalment = unpaid
    deadline = instalment_deadline(record, instalment)
    if now >= deadline:
        return BreakPlan()
    wake = deadline
    rules = record.policy.hardship
    if rules.reminder_template is not None and index not in record.plan.reminded:
        remind_at = (
            at_local(instalment.due_date, time.min, record.time_zone) - rules.reminder_before
        )
        sms_ok = not (record.sms_opted_out or record.contact_ceased or record.wrong_number)
        sms_ok = (
            sms_ok and revocation.pending(record) is None and consent_rules.allows(record, "sms")
        )
        if sms_ok and refused_reason(record, "sms") is None:
            window = record.policy.window_for(record.jurisdiction)
            allowed = contact_rules_at(record, window, "sms", contact_calendar(record, "sms"))
            at = convenient_at(
                record, allowed, kind="sms", customer_facing=True, now=max(remind_at, now)
            )
            if at is not None and at <= now:
                return RemindInstalment(index=index)
            if at is not None:
                wake = min(wake, at)
    return WaitUntil(
        at=wake, label=f"Repayment plan: instalment {index + 1} due {instalment.due_date}"
    )


def apply_transition(
    record: AccountRecord, step: BreakPromise | BreakPlan | PlanCompleted, now: datetime
) -> None:
    """Apply a time-driven change of state (no side effect involved)."""
    if isinstance(step, PlanCompleted):
        record.plan = None
        record.note("repayment plan completed")
        return
    passed = passed_stage_ids(record, now)
    if isinstance(step, BreakPromise):
        break_promise(record, passed)
    else:
        break_plan(record, passed)


def settle(record: AccountRecord, step: Act | Suppress | PassOver) -> Stage | None:
    """Record the stages a step passes over; return the stage to act on, if any."""
    if isinstance(step, PassOver):
        for stage in step.expired:
            validity_rules.note_expired(record, stage)
            mark_handled(record, stage)
        for stage in step.stages:
            mark_handled(record, stage)
        return None
    for stage in step.skipped:
        record.skipped.append(stage.id)
        mark_handled(record, stage)
    for stage in step.not_applicable:
        mark_handled(record, stage)
    if isinstance(step, Suppress):
        record.suppressed.append(step.stage.id)
        mark_handled(record, step.stage)
        record.note(f"{step.stage.id} suppressed: {step.reason}")
        return None
    validity_rules.reopen(record, step.stage)
    return step.stage


def begin_stage(record: AccountRecord, stage: Stage) -> str:
    """Count an attempt at `stage` and return its contact's idempotency key."""
    attempt = record.attempts.get(stage.id, 0) + 1
    record.attempts[stage.id] = attempt
    return contact_key(record.account_id, record.episode_id, stage.id, attempt)


def finish_stage(record: AccountRecord, stage: Stage) -> None:
    mark_handled(record, stage)
    record.last_stage = stage.id
    if record.policy.final_stage == stage.id:
        record.handed_over = True
        record.note("handed over: process closed")


__all__ = [
    "Act",
    "BreakPlan",
    "BreakPromise",
    "Finished",
    "PassOver",
    "PlanCompleted",
    "RemindInstalment",
    "ReviewOverdue",
    "RevocationOverdue",
    "SettlementLapsed",
    "Step",
    "Suppress",
    "WaitForEvents",
    "WaitUntil",
    "anchor_time",
    "apply_transition",
    "begin_stage",
    "blocked_reason",
    "contact_key",
    "days_past_due",
    "finish_stage",
    "next_step",
    "next_step_before_compliance",
    "settle",
    "stage_time",
]

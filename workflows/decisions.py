"""The pure decision core: what happens next for an account, and when.

No Temporal, no I/O. The workflow calls `next_step` after every timer and every event, so the
answer always comes from the current state, never from the order in which timers fired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workflows.account import (
    break_plan,
    break_promise,
    contact_history,
    first_unpaid_instalment,
    instalment_deadline,
    mark_handled,
    promise_deadline,
)
from workflows.contact_rules import at_local, earliest_allowed, local_date
from workflows.policy import Channel, ContactWindow, NotifyKind, Policy, Stage
from workflows.rest_days import contact_calendar, deferral_reason, stage_calendar
from workflows.types import AccountRecord, AccountState

# Notifications the customer receives directly obey contact hours; internal ones do not.
_CUSTOMER_FACING = {NotifyKind.APP_NOTICE, NotifyKind.EMAIL}
_CEASE_BLOCKS = {NotifyKind.APP_NOTICE, NotifyKind.EMAIL, NotifyKind.LETTER}
# How far past its grace an earlier stage, deferred by contact hours or caps, is looked at again
# (and then skipped): the latest stage does not wait longer than that behind it.
_PAST_GRACE = timedelta(seconds=1)


@dataclass(frozen=True)
class Act:
    """Act on `stage` now. `stage` is the latest due stage, or an earlier due stage that came
    due within the policy's `catch_up_grace` (a short outage or backlog): those act first, oldest
    first, one per step, before the latest. `skipped` are earlier due stages that came due more
    than `catch_up_grace` ago (late start, end of a pause) and are passed over: no burst.
    `not_applicable` are due stages whose conditions the account fails."""

    stage: Stage
    skipped: tuple[Stage, ...] = ()
    not_applicable: tuple[Stage, ...] = ()


@dataclass(frozen=True)
class Suppress:
    """The stage's time has come but its channel is closed for this customer."""

    stage: Stage
    reason: str
    skipped: tuple[Stage, ...] = ()
    not_applicable: tuple[Stage, ...] = ()


@dataclass(frozen=True)
class PassOver:
    """Due stages whose conditions the account fails; nothing else is due."""

    stages: tuple[Stage, ...]


@dataclass(frozen=True)
class RemindInstalment:
    index: int


@dataclass(frozen=True)
class BreakPromise:
    pass


@dataclass(frozen=True)
class BreakPlan:
    pass


@dataclass(frozen=True)
class PlanCompleted:
    pass


@dataclass(frozen=True)
class WaitUntil:
    at: datetime
    label: str
    stage: Stage | None = None


@dataclass(frozen=True)
class WaitForEvents:
    reason: str


@dataclass(frozen=True)
class Finished:
    pass


Step = (
    Act
    | Suppress
    | PassOver
    | RemindInstalment
    | BreakPromise
    | BreakPlan
    | PlanCompleted
    | WaitUntil
    | WaitForEvents
    | Finished
)


def anchor_time(policy: Policy, due_date: date, time_zone: str, started_at: datetime) -> datetime:
    """The instant stage offsets count from, in UTC."""
    if policy.anchor == "process_start":
        return started_at
    return at_local(due_date, time.min, time_zone)


def stage_time(stage: Stage, anchor_at: datetime, time_zone: str, policy: Policy) -> datetime:
    """When a stage is due: anchor + offset, at the stage's preferred local time if it has one."""
    at = anchor_at + stage.offset
    if stage.send_at is None or policy.anchor != "due_date":
        return at
    return at_local(local_date(at, time_zone), stage.send_at, time_zone)


def days_past_due(due_date: date, time_zone: str, now: datetime) -> int:
    """Whole days since the due date in the customer's calendar; 0 on or before it."""
    local_today = now.astimezone(ZoneInfo(time_zone)).date()
    return max(0, (local_today - due_date).days)


def contact_key(account_id: str, episode_id: str, stage_id: str, attempt: int = 1) -> str:
    """The business idempotency key of one contact: stable across retries and restarts."""
    return f"{account_id}/{episode_id}/{stage_id}/{attempt}"


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
    if stage.channel is Channel.SMS:
        for flag, reason in (
            (record.sms_opted_out, "sms_opted_out"),
            (record.contact_ceased, "contact_ceased"),
            (record.wrong_number, "wrong_number"),
            (record.sms_unreachable, "sms_unreachable"),
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
    if record.contact_ceased and stage.kind in _CEASE_BLOCKS:
        return "contact_ceased"
    return None


def allowed_at(
    record: AccountRecord, stage: Stage, now: datetime, *, calendar: bool = True
) -> datetime | None:
    kind, window = channel_rules(record, stage)
    return earliest_allowed(
        window=window,
        caps=record.policy.caps,
        kind=kind,
        history=contact_history(record),
        time_zone=record.time_zone,
        t=now,
        calendar=stage_calendar(record, stage) if calendar else None,
    )


def passed_stage_ids(record: AccountRecord, now: datetime) -> set[str]:
    return {
        s.id
        for s in record.policy.stages
        if stage_time(s, record.anchor_at, record.time_zone, record.policy) <= now
    }


def next_step(record: AccountRecord, now: datetime) -> Step:
    if record.finished:
        return Finished()
    state = record.state
    if state in (AccountState.PAUSED, AccountState.DISPUTED, AccountState.HARDSHIP_REVIEW):
        return WaitForEvents(reason=state.value)
    if state is AccountState.PROMISE:
        deadline = promise_deadline(record)
        assert deadline is not None
        if now >= deadline:
            return BreakPromise()
        return WaitUntil(at=deadline, label="Promise to pay: check at the date plus grace")
    if state is AccountState.REPAYMENT_PLAN:
        return _plan_step(record, now)
    return _stage_step(record, now)


def _stage_step(record: AccountRecord, now: datetime) -> Step:
    policy = record.policy
    pending = [s for s in policy.stages if s.id not in record.handled]
    due = [s for s in pending if stage_time(s, record.anchor_at, record.time_zone, policy) <= now]
    if due:
        applies = [
            s
            for s in due
            if s.applies_to(
                balance_minor=record.balance_minor,
                product=record.product,
                risk_segment=record.risk_segment,
            )
        ]
        not_applicable = tuple(s for s in due if s not in applies)
        if not applies:
            return PassOver(stages=not_applicable)
        # Catch-up: the latest due stage acts (stages due at that same instant follow one by
        # one). An earlier due stage is skipped if it came due more than `catch_up_grace` before
        # now, so a late start or the end of a pause never sends a burst of missed stages; one
        # that came due within the grace (a short worker outage or a backlog) is not lost: it
        # acts first, oldest first (ties in list order), one per step. Grace 0: only the latest.
        grace = policy.catch_up_grace
        times = {s.id: stage_time(s, record.anchor_at, record.time_zone, policy) for s in applies}
        latest = max(times.values())
        skipped = tuple(s for s in applies if times[s.id] < latest and now - times[s.id] > grace)
        kept = [s for s in applies if s.id not in {k.id for k in skipped}]
        current = min(kept, key=lambda s: times[s.id])  # the first of the oldest, in list order
        reason = blocked_reason(record, current)
        if reason is not None:
            return Suppress(current, reason, skipped, not_applicable)
        at = allowed_at(record, current, now)
        if at is None:
            return Suppress(current, "cap_is_zero", skipped, not_applicable)
        if at > now:
            if times[current.id] < latest:
                # An earlier stage deferred past its grace will be skipped then; look again
                # when its grace is over, so the latest stage never waits longer behind it.
                at = min(at, times[current.id] + grace + _PAST_GRACE)
            why = deferral_reason(
                record,
                stage_calendar(record, current),
                at,
                allowed_at(record, current, now, calendar=False),
            )
            return WaitUntil(at=at, label=f"{current.label}: deferred ({why})", stage=current)
        return Act(current, skipped, not_applicable)
    if pending:
        first = pending[0]
        return WaitUntil(
            at=stage_time(first, record.anchor_at, record.time_zone, policy),
            label=first.label,
            stage=first,
        )
    return WaitForEvents(reason="every stage done; waiting for payment")


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
        if sms_ok:
            window = record.policy.window_for(record.jurisdiction)
            at = earliest_allowed(
                window=window,
                caps=record.policy.caps,
                kind="sms",
                history=contact_history(record),
                time_zone=record.time_zone,
                t=max(remind_at, now),
                calendar=contact_calendar(record, "sms"),
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
    "settle",
    "stage_time",
]

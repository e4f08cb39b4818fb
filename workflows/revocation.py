"""Revocation of SMS consent by free text, pending an agent's confirmation. Pure.

A reply the inbound webhook classifies as "stop texting me" (`overdue/revocation_rules.py`)
reaches the workflow as `RevocationRequested`. From then on:

- SMS are blocked at once (`pending`, which `decisions.blocked_reason` asks): until someone
  decides, the request is treated as a revocation, the lawful default;
- an agent confirms it (a full SMS opt-out, as the STOP keyword; the console also records it
  in the consent store) or rejects it (not a revocation: SMS resume; stages suppressed meanwhile
  stay suppressed, no catch-up burst);
- nobody deciding within the policy's `revocation.confirm_within_business_days` (10: TCPA's
  "within 10 business days") escalates it: the account goes to the supervisors with a
  `revocation_overdue` task; SMS stay stopped.

Business days skip rest days given by a predicate (`add_business_days`); `rest_day_rule` is
the one place where a calendar is chosen. The deadline is computed once, when the request
arrives, and kept in the record, so the timer never moves for a running request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from workflows.account import RequestRejected
from workflows.calendars import is_rest_day
from workflows.contact_rules import at_local
from workflows.policy import CallQueue
from workflows.revocation_types import (
    SEEN_REQUESTS,
    PendingRevocation,
    RevocationDecision,
    RevocationRequested,
    RevocationState,
)
from workflows.types import AccountRecord

RestDay = Callable[[date], bool]
OVERDUE_TASK = "revocation_overdue"
OVERDUE_PRIORITY = 95  # a lawful deadline passed: before routine supervisor reviews (90)
# No calendar has a year of rest days: a predicate that never yields a business day is a bug.
_MAX_SEARCH_DAYS = 3660


@dataclass(frozen=True)
class RevocationOverdue:
    """A step of the decision core: the pending request passed its deadline unconfirmed."""


def is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def add_business_days(day: date, n: int, is_rest_day: RestDay = is_weekend) -> date:
    """The `n`th business day after `day` (`day` itself never counts; 0 gives `day`)."""
    if n < 0:
        raise ValueError("n must not be negative")
    searched = 0
    while n > 0:
        day += timedelta(days=1)
        searched += 1
        if searched > _MAX_SEARCH_DAYS:
            raise ValueError(f"no business day within {_MAX_SEARCH_DAYS} days")
        if not is_rest_day(day):
            n -= 1
    return day


def rest_day_rule(record: AccountRecord) -> RestDay:
    """The account's rest days from its policy snapshot's calendars (the jurisdiction's
    holidays, blackout days and 调休 working weekends; Saturdays and Sundays without one). From
    the snapshot, never the files, so a replay computes the same deadline."""
    calendars, jurisdiction = record.policy.calendars, record.jurisdiction
    return lambda day: is_rest_day(calendars, jurisdiction, day)


def confirm_deadline(record: AccountRecord, requested_at: datetime) -> datetime:
    """The same local time of day, `confirm_within_business_days` business days later."""
    local = requested_at.astimezone(ZoneInfo(record.time_zone))
    days = record.policy.revocation.confirm_within_business_days
    day = add_business_days(local.date(), days, rest_day_rule(record))
    return at_local(day, local.time().replace(tzinfo=None), record.time_zone)


def pending(record: AccountRecord) -> PendingRevocation | None:
    return record.revocation.pending if record.revocation is not None else None


def deadline_wake(record: AccountRecord) -> datetime | None:
    """When the process must wake for the pending request's deadline, if it must."""
    request = pending(record)
    return request.deadline if request is not None and not request.escalated else None


def overdue(record: AccountRecord, now: datetime) -> bool:
    wake = deadline_wake(record)
    return wake is not None and now >= wake


# --- the signal, the update, the deadline -------------------------------------------------


def apply_request(record: AccountRecord, request: RevocationRequested, now: datetime) -> bool:
    """A free-text revocation request: SMS stop until an agent decides. A redelivered request
    (same id) changes nothing; another while one waits keeps the first one's deadline."""
    state = record.revocation or RevocationState()
    if request.request_id in state.seen:
        return False
    state.seen = [*state.seen[-(SEEN_REQUESTS - 1) :], request.request_id]
    record.revocation = state
    if record.sms_opted_out:
        record.note("sms revocation request: already opted out")
    elif state.pending is not None:
        record.note("sms revocation request: one is already waiting for an agent")
    else:
        deadline = confirm_deadline(record, now)
        state.pending = PendingRevocation(
            request_id=request.request_id, text_id=request.text_id, since=now, deadline=deadline
        )
        record.note(f"sms revocation requested: SMS stopped until an agent decides ({deadline})")
    return True


def validate_decision(record: AccountRecord, decision: RevocationDecision, now: datetime) -> None:
    if record.finished:
        raise RequestRejected(f"the account is {record.state.value}; nothing more can be recorded")
    if pending(record) is None:
        raise RequestRejected("there is no revocation request waiting for a decision")


def apply_decision(record: AccountRecord, decision: RevocationDecision, now: datetime) -> None:
    assert record.revocation is not None
    record.revocation.pending = None
    if decision.confirm:
        record.sms_opted_out = True
        record.note(f"sms revocation confirmed by {decision.actor}: sms opted out")
    else:
        record.note(f"sms revocation rejected by {decision.actor}: not a revocation, SMS resume")


def settle_by_opt_out(record: AccountRecord) -> bool:
    """An opt-out (STOP, a provider's 21610) answers a pending request: nothing to confirm."""
    if not record.sms_opted_out or pending(record) is None:
        return False
    assert record.revocation is not None
    record.revocation.pending = None
    record.note("sms revocation request settled by an opt-out")
    return True


def escalate_overdue(record: AccountRecord, now: datetime) -> None:
    """Nobody decided in time: a supervisor's task; the account shows as escalated. SMS stay
    stopped until someone decides."""
    request = pending(record)
    assert request is not None
    request.escalated = True
    record.escalated = True
    record.request_task(OVERDUE_TASK, CallQueue.SUPERVISOR, OVERDUE_PRIORITY, now)
    record.note(f"sms revocation not decided by {request.deadline}: escalated to supervisors")

"""Ending a payment holiday or a freeze of interest and fees before its `until`. Pure: no
Temporal, no I/O.

A holiday or a freeze, once granted (`workflows.forbearance`), would run to the end of its
`until` day. The borrower may ask to resume sooner, or a specialist may have granted it by
mistake: the `end_forbearance` update (`ForbearanceEnd`) ends the running one now, with the
actor, a reason code and, at most, a `text_id` for the agent's note (kept in Postgres).

- **holiday**: the pause ends at once; the next decision acts as the policy says (stages that
  came due meanwhile follow the catch-up rule: the latest acts, no burst);
- **freeze**: the backend is told through the notify webhook, as of the grant: a notice of kind
  `interest_freeze_ended`, once (its own ledger key), `until` the local day it ended, after
  which interest and fees run again.

Refused, nothing changed: no such period is running (never granted, already over or already
ended), or the account is finished. Old histories never carry the update: no patch.
"""

from __future__ import annotations

from datetime import datetime

from workflows.account import RequestRejected, end_of_local_day
from workflows.contact_rules import local_date
from workflows.forbearance import state
from workflows.forbearance_types import (
    ForbearanceEnd,
    ForbearanceKind,
    ForbearanceNotice,
    PeriodState,
)
from workflows.stages import NotifyKind
from workflows.types import AccountRecord

_WHAT = {
    ForbearanceKind.HOLIDAY: "payment holiday",
    ForbearanceKind.FREEZE: "freeze of interest and fees",
}


def _running(record: AccountRecord, kind: ForbearanceKind, now: datetime) -> PeriodState | None:
    fb = record.forbearance
    if fb is None:
        return None
    period = fb.holiday if kind == ForbearanceKind.HOLIDAY else fb.freeze
    if period is None or now >= end_of_local_day(period.until, record.time_zone):
        return None
    return period


def validate_end(record: AccountRecord, end: ForbearanceEnd, now: datetime) -> None:
    if record.finished:
        raise RequestRejected(f"the account is {record.state.value}; nothing more can be recorded")
    if _running(record, end.kind, now) is None:
        raise RequestRejected(f"no {_WHAT[end.kind]} is running on this account")


def apply_end(record: AccountRecord, end: ForbearanceEnd, now: datetime) -> None:
    fb = state(record)
    period = _running(record, end.kind, now)
    assert period is not None  # validated
    why = f"{end.actor} ({end.reason.value})"
    if end.kind == ForbearanceKind.HOLIDAY:
        fb.holiday = None
        record.note(f"payment holiday until {period.until} ended early by {why}: contact resumes")
        return
    fb.freeze = None
    today = local_date(now, record.time_zone)
    fb.notices.append(
        ForbearanceNotice(
            notice_id=record.next_task_id("forbearance_freeze_end"),
            kind=NotifyKind.INTEREST_FREEZE_ENDED,
            until=today,
        )
    )
    record.note(f"freeze of interest and fees until {period.until} ended on {today} by {why}")

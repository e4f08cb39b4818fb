"""Which rest-day calendar a stage's contact keeps, and how a wait it caused is labelled.

The hook between the decision core (`workflows.decisions`) and `workflows.calendars`: a
contact on a rest day is deferred to the first instant its channel's rule allows, never
dropped, and the wait says which rest day it skipped.
"""

from __future__ import annotations

from datetime import datetime

from workflows.calendars import ChannelCalendar, RestDayChannel, channel_calendar
from workflows.contact_rules import local_date
from workflows.policy import Channel, Stage
from workflows.types import AccountRecord


def contact_calendar(record: AccountRecord, channel: RestDayChannel) -> ChannelCalendar | None:
    """The customer's calendar for `channel`; None when the policy has none for them (and in
    every snapshot recorded before calendars existed, so those decide exactly as before)."""
    return channel_calendar(record.policy.calendars, record.jurisdiction, channel)


def stage_calendar(record: AccountRecord, stage: Stage) -> ChannelCalendar | None:
    """The calendar of a stage's channel. Notices use the 'notify' rule; the caller applies it
    only where a window applies (customer-facing notices), as the window itself."""
    if stage.channel is Channel.SMS:
        return contact_calendar(record, "sms")
    if stage.channel is Channel.CALL_TASK:
        return contact_calendar(record, "call")
    return contact_calendar(record, "notify")


def deferral_reason(
    record: AccountRecord, calendar: ChannelCalendar | None, at: datetime, plain: datetime | None
) -> str:
    """Why a contact waits until `at`: a rest day when, without the calendar, it could have
    happened earlier (at `plain`); contact hours or caps otherwise."""
    if calendar is None or plain is None or plain >= at:
        return "contact hours or caps"
    day = local_date(plain, record.time_zone)
    return (
        f"rest day {day.isoformat()} in {record.jurisdiction.upper()}, "
        f"{calendar.channel} on rest days: {calendar.rule_text()}"
    )


__all__ = ["contact_calendar", "deferral_reason", "stage_calendar"]

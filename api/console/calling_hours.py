"""Whether a call task's customer may be called now: the console's point-of-contact check.

Call tasks are created inside the contact window, but an agent may claim or work one hours
later; the window is checked again when a task is claimed and when a call outcome is recorded.
So is the policy's rest-day calendar for calls (`workflows.calendars`): on the customer's rest
day a call keeps the policy's rest-day hours for calls, or none. Pure functions over
`workflows.contact_rules`, so the window maths (DST included) has one home.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from api.workflow_messages import jurisdiction
from workflows.calendars import ChannelCalendar, channel_calendar, rest_day
from workflows.contact_rules import in_window, window_open_at
from workflows.policy import ContactWindow, Policy


@dataclass(frozen=True)
class CallingHours:
    """The customer's local time now and, outside the window, when it next opens."""

    time_zone: str
    local_now: datetime  # in the customer's zone
    open: bool
    workable_from: datetime | None  # the next window start, in the customer's zone; None: open
    rest_day: bool = False  # the customer's local today is a rest day in the policy's calendar

    @property
    def local_text(self) -> str:
        return f"{self.local_now:%Y-%m-%d %H:%M} ({self.time_zone})"

    @property
    def from_text(self) -> str:
        """'HH:MM', or with the date when the window opens on another local day."""
        if self.workable_from is None:
            return ""
        if self.workable_from.date() == self.local_now.date():
            return f"{self.workable_from:%H:%M}"
        return f"{self.workable_from:%Y-%m-%d %H:%M}"


def window_for_phone(policy: Policy, phone: str | None) -> ContactWindow:
    """The policy's window for the phone's country; the default one when it is unknown."""
    return policy.window_for(_country(phone))


def calendar_for_phone(policy: Policy, phone: str | None) -> ChannelCalendar | None:
    """The policy's rest-day calendar for calls to the phone's country (None: no calendar)."""
    return channel_calendar(policy.calendars, _country(phone), "call")


def _country(phone: str | None) -> str:
    try:
        return jurisdiction(phone) if phone else "default"
    except phonenumbers.NumberParseException:
        return "default"


def calling_hours(
    policy: Policy, phone: str | None, time_zone: str | None, now: datetime
) -> CallingHours | None:
    """None when the customer's time zone is unknown or invalid: then nobody may call them,
    as their local hour cannot be known."""
    if not time_zone:
        return None
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    window = window_for_phone(policy, phone)
    calendar = calendar_for_phone(policy, phone)  # a rest day keeps the calls' rest-day rule
    inside = in_window(window, time_zone, now, calendar)
    opens = None if inside else window_open_at(window, time_zone, now, calendar).astimezone(zone)
    local_now = now.astimezone(zone)
    resting = calendar is not None and rest_day(calendar.calendar, local_now.date())
    return CallingHours(time_zone, local_now, inside, opens, resting)


def workable_now(policy: Policy, now: datetime) -> Callable[[str | None, str | None], bool]:
    """The claim's filter (`call_tasks.claim_next`): inside the customer's window at `now`."""

    def workable(phone: str | None, time_zone: str | None) -> bool:
        hours = calling_hours(policy, phone, time_zone, now)
        return hours is not None and hours.open

    return workable

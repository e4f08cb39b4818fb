"""Contact rules: local contact windows and contact caps. Pure functions, no Temporal, no I/O.

Every answer is "the earliest instant at or after `t` when this contact is allowed", so a
contact that is not allowed now is deferred, never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workflows.calendars import ChannelCalendar
from workflows.policy import Caps, ContactWindow

UTC = ZoneInfo("UTC")
WEEK = timedelta(days=7)
# A contact never waits longer than this for caps and windows to line up; beyond it the
# policy allows no contact at all (a cap of 0), which the caller reports as suppressed.
_MAX_SEARCH_STEPS = 64


@dataclass(frozen=True)
class Contact:
    """A past contact, as far as caps are concerned."""

    kind: str  # "sms" or "call"
    at: datetime
    conversation: bool = False  # a call in which the customer was reached


def local_date(t: datetime, time_zone: str) -> date:
    return t.astimezone(ZoneInfo(time_zone)).date()


def at_local(day: date, clock: time, time_zone: str) -> datetime:
    """The UTC instant of `clock` on `day` in `time_zone` (a time in a DST gap moves forward)."""
    zone = ZoneInfo(time_zone)
    local = datetime.combine(day, clock, tzinfo=zone)
    # Round-trip through UTC normalises nonexistent local times (spring-forward gaps).
    return local.astimezone(UTC).astimezone(zone).astimezone(UTC)


def in_window(
    window: ContactWindow, time_zone: str, t: datetime, calendar: ChannelCalendar | None = None
) -> bool:
    """Whether `t` is inside the contact hours of its local day (a rest day's, with a calendar)."""
    local = t.astimezone(ZoneInfo(time_zone))
    hours = _hours_on(window, local.date(), calendar)
    return hours is not None and hours[0] <= local.time() < hours[1]


def window_open_at(
    window: ContactWindow, time_zone: str, t: datetime, calendar: ChannelCalendar | None = None
) -> datetime:
    """The earliest instant at or after `t` inside the contact window. With a calendar, a rest
    day keeps the channel's rest-day hours, or none: the search goes on to a later day."""
    if in_window(window, time_zone, t, calendar):
        return t
    day = local_date(t, time_zone)
    # Without a calendar the window opens today, tomorrow or (DST) the day after; a calendar's
    # run of closed days is bounded by the days it names plus the weekends between them.
    days = 3 if calendar is None else 2 * calendar.calendar.dated_days() + 10
    for offset in range(days):
        candidate_day = day + timedelta(days=offset)
        hours = _hours_on(window, candidate_day, calendar)
        if hours is None:
            continue
        opening = at_local(candidate_day, hours[0], time_zone)
        if opening >= t and in_window(window, time_zone, opening, calendar):
            return opening
    raise AssertionError("a contact window opens every working day")  # unreachable


def _hours_on(
    window: ContactWindow, day: date, calendar: ChannelCalendar | None
) -> tuple[time, time] | None:
    if calendar is None:
        return window.start, window.end
    return calendar.hours_on(day, window.start, window.end)


def cap_free_at(
    caps: Caps, kind: str, history: Sequence[Contact], time_zone: str, t: datetime
) -> datetime | None:
    """The earliest instant at or after `t` when one more contact of `kind` stays within caps.

    None when the caps allow no contact of this kind at all.
    """
    if kind == "sms":
        per_day, per_week = caps.sms_per_day, caps.sms_per_week
    else:
        per_day, per_week = caps.calls_per_day, caps.calls_per_7_days
    if per_day == 0 or per_week == 0:
        return None
    times = sorted(c.at for c in history if c.kind == kind)
    candidate = t
    if kind == "call":
        conversations = [c.at for c in history if c.kind == "call" and c.conversation]
        if conversations:
            quiet_until = max(conversations) + timedelta(
                days=caps.call_quiet_days_after_conversation
            )
            candidate = max(candidate, quiet_until)
    for _ in range(_MAX_SEARCH_STEPS):
        moved = candidate
        same_day = [x for x in times if local_date(x, time_zone) == local_date(moved, time_zone)]
        if len(same_day) >= per_day:
            next_day = local_date(moved, time_zone) + timedelta(days=1)
            moved = max(moved, at_local(next_day, time.min, time_zone))
        in_week = [x for x in times if moved - WEEK < x <= moved]
        if len(in_week) >= per_week:
            # Free once enough of the oldest contacts in the rolling week have aged out.
            moved = max(moved, in_week[len(in_week) - per_week] + WEEK + timedelta(microseconds=1))
        if moved == candidate:
            return candidate
        candidate = moved
    return candidate


def earliest_allowed(
    *,
    window: ContactWindow | None,
    caps: Caps,
    kind: str | None,
    history: Sequence[Contact],
    time_zone: str,
    t: datetime,
    calendar: ChannelCalendar | None = None,
) -> datetime | None:
    """Earliest instant at or after `t` that is inside the window and within caps.

    `window` None: no time-of-day rule (e.g. an internal notification); `kind` None: no caps;
    `calendar` None: every day keeps the window (with one, rest days keep the channel's rule).
    """
    candidate = t
    for _ in range(_MAX_SEARCH_STEPS):
        moved = candidate
        if kind is not None:
            free = cap_free_at(caps, kind, history, time_zone, moved)
            if free is None:
                return None
            moved = free
        if window is not None:
            moved = window_open_at(window, time_zone, moved, calendar)
        if moved == candidate:
            return candidate
        candidate = moved
    return candidate

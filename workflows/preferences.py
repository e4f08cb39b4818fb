"""Customer-stated inconvenient times as arithmetic on instants. Pure: no Temporal, no I/O.

An inconvenient time is local wall-clock hours on some weekdays. A contact never lands inside
one: like a contact window, it is deferred to the next instant outside every range, composed
on top of whatever else defers it (windows, caps, calendars: `earliest_convenient` takes that
rule as a function), so this module never needs to know how those are computed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workflows.contact_rules import at_local
from workflows.customer_state import UNTIL_MIDNIGHT, InconvenientTime

# 8 ranges x 7 days chained end to start is the longest run of inconvenient time there can be.
_MAX_STEPS = 64


def inconvenient_at(
    times: Sequence[InconvenientTime], time_zone: str, t: datetime
) -> InconvenientTime | None:
    """The range `t` falls in, on the customer's local clock, if any."""
    local = t.astimezone(ZoneInfo(time_zone))
    clock, weekday = local.time().replace(tzinfo=None), local.weekday()
    for r in times:
        until_end = clock < r.end or r.end == UNTIL_MIDNIGHT
        if weekday in r.weekdays and r.start <= clock and until_end:
            return r
    return None


def _range_end(r: InconvenientTime, day: date, time_zone: str, t: datetime) -> datetime:
    """The first instant after `t` (inside `r` on local `day`) that is past `r`'s end."""
    if r.end == UNTIL_MIDNIGHT:
        return at_local(day + timedelta(days=1), r.end.min, time_zone)
    end = at_local(day, r.end, time_zone)
    if end > t:
        return end
    # The second pass through a repeated hour (DST ends): the end's first occurrence is behind
    # us; the wall-clock distance to it is the real one, no other change comes within a day.
    wall = t.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)
    return t + (datetime.combine(day, r.end) - wall)


def next_convenient(
    times: Sequence[InconvenientTime], time_zone: str, t: datetime
) -> datetime | None:
    """The earliest instant at or after `t` outside every inconvenient time (None: none within
    the search, which validation makes impossible: every week keeps convenient time)."""
    candidate = t
    for _ in range(_MAX_STEPS):
        hit = inconvenient_at(times, time_zone, candidate)
        if hit is None:
            return candidate
        day = candidate.astimezone(ZoneInfo(time_zone)).date()
        candidate = _range_end(hit, day, time_zone, candidate)
    return None


def earliest_convenient(
    allowed: Callable[[datetime], datetime | None],
    times: Sequence[InconvenientTime],
    time_zone: str,
    t: datetime,
) -> datetime | None:
    """The earliest instant at or after `t` that `allowed` accepts (it answers the earliest
    allowed instant at or after its argument, or None for never) and that is convenient.

    No inconvenient times: exactly `allowed(t)`."""
    if not times:
        return allowed(t)
    candidate = t
    for _ in range(_MAX_STEPS):
        at = allowed(candidate)
        if at is None:
            return None
        convenient = next_convenient(times, time_zone, at)
        if convenient is None:
            return None
        if convenient == at:
            return at
        candidate = convenient
    return None


def convenient_weekdays(
    times: Sequence[InconvenientTime], window_start: time, window_end: time
) -> list[int]:
    """The weekdays on which some time inside the local window [start, end) is convenient."""
    days = []
    for day in range(7):
        cursor = window_start
        for start, end in sorted((r.start, r.end) for r in times if day in r.weekdays):
            if start > cursor:
                break  # a convenient gap from cursor to this range's start
            cursor = max(cursor, end)
        if cursor < window_end:
            days.append(day)
    return days

"""Contact rules: local contact windows and contact caps. Pure functions, no Temporal, no I/O.

Every answer is "the earliest instant at or after `t` when this contact is allowed", so a
contact that is not allowed now is deferred, never dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

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


def in_window(window: ContactWindow, time_zone: str, t: datetime) -> bool:
    local = t.astimezone(ZoneInfo(time_zone)).time()
    return window.start <= local < window.end


def window_open_at(window: ContactWindow, time_zone: str, t: datetime) -> datetime:
    """The earliest instant at or after `t` inside the contact window."""
    if in_window(window, time_zone, t):
        return t
    day = local_date(t, time_zone)
    for candidate_day in (day, day + timedelta(days=1), day + timedelta(days=2)):
        opening = at_local(candidate_day, window.start, time_zone)
        if opening >= t and in_window(window, time_zone, opening):
            return opening
    raise AssertionError("a contact window opens every day")  # unreachable for valid windows


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
) -> datetime | None:
    """Earliest instant at or after `t` that is inside the window and within caps.

    `window` None: no time-of-day rule (e.g. an internal notification); `kind` None: no caps.
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
            moved = window_open_at(window, time_zone, moved)
        if moved == candidate:
            return candidate
        candidate = moved
    return candidate

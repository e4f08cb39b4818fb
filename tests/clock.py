"""Local times for tests, so that every test holds at any hour of the wall clock.

Two kinds of test need this. Time-skipping tests move their own server's clock to a chosen local
instant before the scenario starts (`next_local_instant`, `next_dst_change`). Integration tests
run against the real wall clock, so they choose the customer's zone instead: `zone_where_it_is`
answers a real IANA zone in which it is a wanted local hour right now.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Real zones without daylight saving time (checked in `_offset_hours`), one per whole-hour UTC
# offset from -11 to +14: together they hold every local hour at every instant.
NO_DST_ZONES = (
    "Pacific/Pago_Pago",  # -11
    "Pacific/Honolulu",  # -10
    "Pacific/Gambier",  # -9
    "Pacific/Pitcairn",  # -8
    "America/Phoenix",  # -7
    "America/Regina",  # -6
    "America/Bogota",  # -5
    "America/La_Paz",  # -4
    "America/Sao_Paulo",  # -3
    "America/Noronha",  # -2
    "Atlantic/Cape_Verde",  # -1
    "Africa/Abidjan",  # 0
    "Africa/Lagos",  # +1
    "Africa/Johannesburg",  # +2
    "Africa/Nairobi",  # +3
    "Asia/Dubai",  # +4
    "Asia/Tashkent",  # +5
    "Asia/Dhaka",  # +6
    "Asia/Bangkok",  # +7
    "Asia/Shanghai",  # +8
    "Asia/Tokyo",  # +9
    "Australia/Brisbane",  # +10
    "Pacific/Noumea",  # +11
    "Pacific/Tarawa",  # +12
    "Pacific/Tongatapu",  # +13
    "Pacific/Kiritimati",  # +14
)
DST_ZONE = "America/New_York"


def _offset_hours(zone: str, now: datetime) -> int:
    info = ZoneInfo(zone)
    offsets = {(now + timedelta(days=d)).astimezone(info).utcoffset() for d in range(0, 366, 15)}
    (offset,) = offsets  # a zone that changed its rules would fail here, not silently
    assert offset is not None and offset.total_seconds() % 3600 == 0, zone
    return int(offset.total_seconds() // 3600)


def zone_where_it_is(hour: int, now: datetime | None = None) -> str:
    """A zone in which the local hour is `hour` now, preferring Asia/Shanghai when it is.

    Pick an hour in the middle of what the test needs (say 12 for "inside the contact window"):
    the local time then stays in range for the hours a test could possibly run.
    """
    if not 0 <= hour < 24:
        raise ValueError(f"hour {hour} is not between 0 and 23")
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    candidates = ["Asia/Shanghai", *NO_DST_ZONES]
    for zone in candidates:
        if (moment.hour + _offset_hours(zone, moment)) % 24 == hour:
            return zone
    raise AssertionError(f"no zone where it is {hour}:00 at {moment}")  # offsets cover 24 hours


def local_today(zone: str, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(zone)).date()


def next_local_instant(after: datetime, clock: time, zone: str, weekday: int = 2) -> datetime:
    """The first `clock` on a `weekday` (Monday 0; Wednesday by default) at least a day after.

    Time-skipping tests skip their server's clock here first, so each scenario starts at the
    same local hour and weekday whatever the wall clock reads.
    """
    info = ZoneInfo(zone)
    day = (after + timedelta(days=1)).astimezone(info).date()
    while True:
        if day.weekday() == weekday:
            candidate = datetime.combine(day, clock, tzinfo=info)
            # A clock time inside a DST gap does not exist on that day: try the next week.
            if candidate.astimezone(UTC).astimezone(info).time() == clock:
                return candidate.astimezone(UTC)
        day += timedelta(days=1)


def next_dst_change(after: datetime, zone: str = DST_ZONE) -> datetime:
    """The first instant after `after` at which `zone`'s UTC offset changes."""
    info = ZoneInfo(zone)
    step = timedelta(hours=1)
    moment = after.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + step
    offset = moment.astimezone(info).utcoffset()
    for _ in range(24 * 400):
        following = moment + step
        if following.astimezone(info).utcoffset() != offset:
            return following
        moment = following
    raise AssertionError(f"{zone} has no DST change within 400 days of {after}")

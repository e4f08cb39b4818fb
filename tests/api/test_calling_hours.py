"""The console's point-of-contact check: the customer's local time and next window start."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

from api.console.calling_hours import calling_hours, window_for_phone, workable_now
from overdue.policy_files import load_policy
from workflows.calendars import Calendar
from workflows.policy import ContactWindow

JP_PHONE = "+819012345678"
CN_PHONE = "+8613912345678"


# The integration policy: whole-day default window, a real 08:00-21:00 one for Japan.
POLICY = load_policy(Path(__file__).resolve().parents[2] / "tests" / "policies" / "fast.yaml")


def test_the_phone_country_picks_the_window_and_unknown_falls_back_to_default() -> None:
    assert window_for_phone(POLICY, JP_PHONE) == ContactWindow(start=time(8), end=time(21))
    default = POLICY.contact_windows["default"]
    assert window_for_phone(POLICY, CN_PHONE) == default
    assert window_for_phone(POLICY, None) == default
    assert window_for_phone(POLICY, "not a phone") == default


def test_outside_the_window_answers_the_next_start_in_local_time() -> None:
    # 18:30 UTC is 03:30 in Tokyo: closed until 08:00 the same local day.
    hours = calling_hours(POLICY, JP_PHONE, "Asia/Tokyo", datetime(2026, 12, 3, 18, 30, tzinfo=UTC))
    assert hours is not None and not hours.open
    assert hours.local_text == "2026-12-04 03:30 (Asia/Tokyo)"
    assert hours.from_text == "08:00"
    # 12:30 UTC is 21:30 in Tokyo: the window opens the next local day, so the date shows.
    late = calling_hours(POLICY, JP_PHONE, "Asia/Tokyo", datetime(2026, 12, 3, 12, 30, tzinfo=UTC))
    assert late is not None and late.from_text == "2026-12-04 08:00"


def test_inside_the_window_is_workable_and_has_no_start() -> None:
    now = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
    hours = calling_hours(POLICY, JP_PHONE, "Asia/Tokyo", now)
    assert hours is not None and hours.open and hours.from_text == ""
    workable = workable_now(POLICY, now)
    assert workable(JP_PHONE, "Asia/Tokyo")
    assert not workable(JP_PHONE, "Europe/London")  # 03:00 there


def test_a_dst_zone_uses_its_local_offset() -> None:
    # 2026-03-08 is the US spring-forward day: 12:30 UTC is 08:30 EDT (07:30 would be EST).
    now = datetime(2026, 3, 8, 12, 30, tzinfo=UTC)
    assert workable_now(POLICY, now)(JP_PHONE, "America/New_York")


def test_an_unknown_time_zone_is_never_workable() -> None:
    now = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    assert calling_hours(POLICY, JP_PHONE, None, now) is None
    assert calling_hours(POLICY, JP_PHONE, "Mars/Olympus", now) is None
    assert not workable_now(POLICY, now)(JP_PHONE, "Mars/Olympus")


# CN around National Day 2025 (the loader's expansion of chinese_calendar, tests/overdue):
# no calls on rest days; Saturday 11 October is a swapped working day.
CALENDAR_POLICY = POLICY.model_copy(
    update={
        "calendars": {
            "CN": Calendar(
                source="chinese_calendar",
                rest_days=tuple(date(2025, 10, d) for d in (1, 2, 3, 6, 7, 8)),
                working_days=(date(2025, 10, 11),),
                on_rest_days={"call": "none"},
            )
        }
    }
)


def test_a_rest_day_is_not_workable_and_shows_the_next_working_day() -> None:
    noon_holiday = datetime(2025, 10, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    hours = calling_hours(CALENDAR_POLICY, CN_PHONE, "Asia/Shanghai", noon_holiday)
    assert hours is not None and not hours.open
    assert hours.from_text == "2025-10-09 00:00"  # fast.yaml's default window is all day
    assert hours.rest_day  # the task page says why
    assert not workable_now(CALENDAR_POLICY, noon_holiday)(CN_PHONE, "Asia/Shanghai")
    # The same instant for a Japanese number: no calendar for JP, no default calendar.
    assert workable_now(CALENDAR_POLICY, noon_holiday)(JP_PHONE, "Asia/Tokyo")
    # The swapped working Saturday is workable; the plain policy never looked at calendars.
    saturday = datetime(2025, 10, 11, 4, 0, tzinfo=UTC)
    assert workable_now(CALENDAR_POLICY, saturday)(CN_PHONE, "Asia/Shanghai")
    assert workable_now(POLICY, noon_holiday)(CN_PHONE, "Asia/Shanghai")
    plain = calling_hours(POLICY, CN_PHONE, "Asia/Shanghai", noon_holiday)
    assert plain is not None and not plain.rest_day

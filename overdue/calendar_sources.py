"""Expanding a policy file's calendar sources into explicit dates, when the file is loaded.

`workflows.calendars` keeps only dates: this module is where the calendar libraries are read
(`chinese_calendar` for CN, which knows the swapped working days, 调休; `holidays` for other
countries), so a library upgrade changes new snapshots only, never a running or replayed
workflow. A year `chinese_calendar` has no data for yet (it follows the State Council's
yearly notice) takes CN's statutory holidays as the `holidays` package computes them from the
lunar calendar, with their weekday observances but without the notice's swapped working days,
and `overdue policy check` warns about it with the path: better than calling on New Year's
Eve because a package is late.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
import holidays

from workflows.calendars import Calendar, ChannelCalendar, RestDayChannel
from workflows.policy import Policy

_SATURDAY = 5


@dataclass(frozen=True)
class CalendarNote:
    """A warning about a calendar: the policy still loads."""

    path: str
    reason: str


@dataclass(frozen=True)
class CalendarRow:
    """One jurisdiction's calendar, as `overdue policy check` prints it."""

    jurisdiction: str
    source: str
    years: str
    rest_days: int  # holidays Monday to Friday
    working_days: int  # working Saturdays and Sundays
    blackout_days: int
    rules: str  # "sms none, call 10:00-18:00, notify none"


class CalendarSourceError(ValueError):
    """A source the libraries do not know. `path` is where in the file."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def default_years(today: date) -> tuple[int, int]:
    """The span when a file states none: the load year, the one before and the one after."""
    return today.year - 1, today.year + 1


def expand_calendars(policy: Policy, today: date) -> Policy:
    """`policy` with each calendar's source expanded over its years (or `default_years`)."""
    if not policy.calendars:
        return policy
    expanded: dict[str, Calendar] = {}
    for key, calendar in policy.calendars.items():
        years = calendar.years or default_years(today)
        rest, working = _source_days(f"calendars.{key}.source", calendar.source, years)
        data = calendar.model_dump() | {
            "years": years,
            "rest_days": tuple(sorted(rest)),
            "working_days": tuple(sorted(working)),
        }
        expanded[key] = Calendar.model_validate(data)
    return policy.model_copy(update={"calendars": expanded})


def calendar_notes(policy: Policy, today: date) -> list[CalendarNote]:
    """Warnings on an expanded policy's calendars: years its source has no data for, and a
    span that ends before the processes started `today` do."""
    notes: list[CalendarNote] = []
    for key, calendar in policy.calendars.items():
        if calendar.years is None:
            continue
        first, last = calendar.years
        missing = [y for y in range(first, last + 1) if not _knows_year(calendar.source, y)]
        if missing:
            notes.append(
                CalendarNote(
                    f"calendars.{key}.years",
                    f"{calendar.source} has no data for {', '.join(map(str, missing))}: "
                    "its rest days then are the statutory holidays by rule (the holidays "
                    "package), without the State Council's swapped working days; check "
                    "them against its notice and list any other day off as blackout_days "
                    "(or upgrade the package)",
                )
            )
        if last < today.year + 1:
            notes.append(
                CalendarNote(
                    f"calendars.{key}.years",
                    f"the span ends with {last}; processes started now run into "
                    f"{today.year + 1}: extend `years`",
                )
            )
    return notes


def calendar_rows(policy: Policy) -> list[CalendarRow]:
    rows = []
    for key, calendar in sorted(policy.calendars.items()):
        years = f"{calendar.years[0]}-{calendar.years[1]}" if calendar.years else "-"
        channels: tuple[RestDayChannel, ...] = ("sms", "call", "notify")
        rules = ", ".join(
            f"{channel} {ChannelCalendar(calendar, channel).rule_text()}" for channel in channels
        )
        rows.append(
            CalendarRow(
                key,
                calendar.source,
                years,
                len(calendar.rest_days),
                len(calendar.working_days),
                len(calendar.blackout_days),
                rules,
            )
        )
    return rows


def _source_days(path: str, source: str, years: tuple[int, int]) -> tuple[set[date], set[date]]:
    """(holidays Monday to Friday, working Saturdays and Sundays) from `source`."""
    if source == "none":
        return set(), set()
    if source == "chinese_calendar":
        rest: set[date] = set()
        working: set[date] = set()
        for year in range(years[0], years[1] + 1):
            if not _knows_year(source, year):
                rest |= _statutory_cn_weekdays(year)
                continue
            for day in _days_of(year):
                weekend = day.weekday() >= _SATURDAY
                if not weekend and chinese_calendar.is_holiday(day):
                    rest.add(day)
                elif weekend and chinese_calendar.is_workday(day):
                    working.add(day)
        return rest, working
    country = source.removeprefix("holidays:")
    if country not in holidays.list_supported_countries():
        raise CalendarSourceError(path, f"the holidays package knows no country {country!r}")
    known = holidays.country_holidays(country, years=range(years[0], years[1] + 1))
    return {day for day in known if day.weekday() < _SATURDAY}, set()


def _statutory_cn_weekdays(year: int) -> set[date]:
    """CN's statutory holidays of `year` that fall Monday to Friday, by the `holidays`
    package's rules (the lunar calendar and weekday observances; no swapped working days)."""
    return {day for day in holidays.country_holidays("CN", years=year) if day.weekday() < _SATURDAY}


def _knows_year(source: str, year: int) -> bool:
    if source != "chinese_calendar":
        return True  # `holidays` computes its countries' rules for any year
    try:
        chinese_calendar.is_holiday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _days_of(year: int) -> Iterator[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)

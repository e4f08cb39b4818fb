"""Rest days per jurisdiction and the contact hours each channel keeps on them. Pure data and
pure functions: no I/O, no calendar library.

A policy FILE names a calendar source per jurisdiction (`chinese_calendar`, `holidays:US`,
`none`); `overdue.calendar_sources` expands it, when the file is loaded, into explicit dates
kept here: `rest_days` (holidays falling Monday to Friday) and `working_days` (Saturdays and
Sundays that are working days, like CN's swapped days, 调休). Only the days that differ from
the Monday-Friday week are kept, so a snapshot stays small. Workflows read only these dates:
a library upgrade never changes what a replayed workflow decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workflows.durations import LocalTime

RestDayChannel = Literal["sms", "call", "notify"]
NoContact = Literal["none"]
_SATURDAY = 5
# A calendar spans at most this many years: enough for any process, small in a snapshot.
MAX_YEARS = 10
SOURCE_PATTERN = r"^(none|chinese_calendar|holidays:[A-Z]{2})$"


class RestDayHours(BaseModel):
    """Local hours a channel keeps on a rest day instead of the jurisdiction's contact window
    (start inclusive, end exclusive)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: LocalTime
    end: LocalTime

    @model_validator(mode="after")
    def _ordered(self) -> RestDayHours:
        if self.end <= self.start:
            raise ValueError(
                f"rest-day hours end {self.end} must be after their start {self.start}"
            )
        return self


RestDayRule = NoContact | RestDayHours


def _no_contact() -> dict[RestDayChannel, RestDayRule]:
    return {"sms": "none", "call": "none", "notify": "none"}


class Calendar(BaseModel):
    """One jurisdiction's rest days and what each channel may do on them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(
        default="none",
        pattern=SOURCE_PATTERN,
        description="Where statutory holidays come from, read when the file is loaded: "
        "'chinese_calendar' (CN, knows swapped working days), 'holidays:<country code>', or "
        "'none' (Saturdays and Sundays only).",
    )
    years: tuple[int, int] | None = Field(
        default=None,
        description="First and last year the source is expanded for (inclusive); outside "
        "them only Saturdays and Sundays are rest days. Missing in a file: the load year +-1.",
    )
    blackout_days: tuple[date, ...] = Field(
        default=(), description="The policy's own extra rest days (any weekday)."
    )
    on_rest_days: dict[RestDayChannel, RestDayRule] = Field(
        default_factory=_no_contact,
        description="Per channel ('sms', 'call', customer-facing 'notify'): 'none' (no contact "
        "on a rest day) or other hours, e.g. {start: '10:00', end: '18:00'}. A channel not "
        "listed: none.",
    )
    # Filled in from `source` when the file is loaded; only days unlike Monday-Friday.
    rest_days: tuple[date, ...] = ()
    working_days: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Calendar:
        if self.years is not None:
            first, last = self.years
            if not 1 <= last - first + 1 <= MAX_YEARS:
                raise ValueError(
                    f"years: first {first} to last {last} must span 1 to {MAX_YEARS} years"
                )
        weekend_rest = [d for d in self.rest_days if d.weekday() >= _SATURDAY]
        if weekend_rest:
            raise ValueError(f"rest_days keeps weekdays only; {weekend_rest[0]} is a weekend day")
        weekday_work = [d for d in self.working_days if d.weekday() < _SATURDAY]
        if weekday_work:
            raise ValueError(f"working_days keeps weekend days only; {weekday_work[0]} is not")
        both = sorted(set(self.rest_days) & set(self.working_days))
        if both:
            raise ValueError(f"{both[0]} is both a rest day and a working day")
        return self

    def dated_days(self) -> int:
        """How many days the calendar names: bounds a search for the next working day."""
        return len(self.rest_days) + len(self.working_days) + len(self.blackout_days)


def calendar_for(calendars: Mapping[str, Calendar], jurisdiction: str) -> Calendar | None:
    """The jurisdiction's calendar, else the 'default' one, else None (no calendar)."""
    return calendars.get(jurisdiction.upper(), calendars.get("default"))


def rest_day(calendar: Calendar, day: date) -> bool:
    """Whether `day` (a local date) is a rest day in `calendar`."""
    if day in calendar.blackout_days or day in calendar.rest_days:
        return True
    return day.weekday() >= _SATURDAY and day not in calendar.working_days


def is_rest_day(calendars: Mapping[str, Calendar], jurisdiction: str, day: date) -> bool:
    """Whether `day` is a rest day for `jurisdiction` under a policy's `calendars`. With no
    calendar for it (nor a 'default' one), Saturdays and Sundays are: the plain business week,
    for deadlines counted in business days."""
    calendar = calendar_for(calendars, jurisdiction)
    if calendar is None:
        return day.weekday() >= _SATURDAY
    return rest_day(calendar, day)


@dataclass(frozen=True)
class ChannelCalendar:
    """A calendar as one channel sees it: what `workflows.contact_rules` takes."""

    calendar: Calendar
    channel: RestDayChannel

    def hours_on(self, day: date, start: time, end: time) -> tuple[time, time] | None:
        """Contact hours on `day`: the regular (start, end) on a working day, the channel's
        rest-day hours on a rest day, None when the channel keeps no contact that day."""
        if not rest_day(self.calendar, day):
            return start, end
        rule = self.calendar.on_rest_days.get(self.channel, "none")
        if isinstance(rule, RestDayHours):
            return rule.start, rule.end
        return None

    def rule_text(self) -> str:
        rule = self.calendar.on_rest_days.get(self.channel, "none")
        if isinstance(rule, RestDayHours):
            return f"{rule.start:%H:%M}-{rule.end:%H:%M}"
        return "none"


def channel_calendar(
    calendars: Mapping[str, Calendar], jurisdiction: str, channel: RestDayChannel
) -> ChannelCalendar | None:
    calendar = calendar_for(calendars, jurisdiction)
    return None if calendar is None else ChannelCalendar(calendar, channel)


def check_calendar_keys(calendars: Mapping[str, Calendar]) -> None:
    """Keys are upper-case country codes or 'default' (Policy's validator calls this)."""
    for key in calendars:
        if key != "default" and not (len(key) == 2 and key.isalpha() and key.isupper()):
            raise ValueError(f"calendars: {key!r} is not a country code (like 'CN') or 'default'")


__all__ = [
    "Calendar",
    "ChannelCalendar",
    "RestDayChannel",
    "RestDayHours",
    "RestDayRule",
    "calendar_for",
    "channel_calendar",
    "check_calendar_keys",
    "is_rest_day",
    "rest_day",
]

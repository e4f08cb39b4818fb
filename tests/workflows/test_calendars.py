"""Rest days in the pure core: which local days rest, the hours each channel keeps on them, and
a contact due on one deferred (never dropped) to the first allowed instant, labelled why."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from tests.workflows.records import make_record
from workflows.calendars import (
    Calendar,
    ChannelCalendar,
    calendar_for,
    channel_calendar,
    is_rest_day,
    rest_day,
)
from workflows.contact_rules import Contact, earliest_allowed, in_window, window_open_at
from workflows.decisions import Act, RemindInstalment, WaitUntil, next_step
from workflows.policy import Caps, ContactWindow, Policy
from workflows.types import Instalment, PlanState

SHANGHAI = ZoneInfo("Asia/Shanghai")
WINDOW = ContactWindow(start=time(8), end=time(22))
# CN around National Day 2025, as `chinese_calendar` expands it (tests/overdue checks that):
# 1-8 October rest (the weekdays among them listed), Sunday 28 September and Saturday
# 11 October are swapped working days.
NATIONAL_DAY = Calendar(
    source="chinese_calendar",
    years=(2025, 2025),
    rest_days=(
        date(2025, 10, 1),
        date(2025, 10, 2),
        date(2025, 10, 3),
        date(2025, 10, 6),
        date(2025, 10, 7),
        date(2025, 10, 8),
    ),
    working_days=(date(2025, 9, 28), date(2025, 10, 11)),
    blackout_days=(date(2025, 10, 10),),
    on_rest_days={"sms": {"start": "10:00", "end": "18:00"}, "call": "none"},
)


def sh(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=SHANGHAI).astimezone(UTC)


def test_rest_days_weekends_swapped_days_and_blackouts() -> None:
    assert rest_day(NATIONAL_DAY, date(2025, 10, 1))  # a weekday holiday
    assert rest_day(NATIONAL_DAY, date(2025, 10, 4))  # a Saturday inside the holiday
    assert not rest_day(NATIONAL_DAY, date(2025, 10, 9))  # a plain Thursday
    assert rest_day(NATIONAL_DAY, date(2025, 10, 10))  # the policy's blackout day
    assert not rest_day(NATIONAL_DAY, date(2025, 10, 11))  # 调休: a working Saturday
    assert not rest_day(NATIONAL_DAY, date(2025, 9, 28))  # 调休: a working Sunday
    assert rest_day(NATIONAL_DAY, date(2025, 10, 12))  # a plain Sunday


def test_is_rest_day_picks_the_jurisdiction_then_default_then_the_plain_week() -> None:
    calendars = {"CN": NATIONAL_DAY, "default": Calendar(blackout_days=(date(2025, 10, 9),))}
    assert is_rest_day(calendars, "cn", date(2025, 10, 1))
    assert not is_rest_day(calendars, "US", date(2025, 10, 1))  # default: a plain Wednesday
    assert is_rest_day(calendars, "US", date(2025, 10, 9))  # default's blackout day
    assert not is_rest_day({}, "CN", date(2025, 10, 1))  # no calendar: Monday-Friday work
    assert is_rest_day({}, "CN", date(2025, 10, 4))
    assert calendar_for({}, "CN") is None and channel_calendar({}, "CN", "sms") is None


def test_each_channel_keeps_its_rule_on_a_rest_day() -> None:
    sms = ChannelCalendar(NATIONAL_DAY, "sms")
    call = ChannelCalendar(NATIONAL_DAY, "call")
    notify = ChannelCalendar(NATIONAL_DAY, "notify")  # not listed: none
    holiday, workday = date(2025, 10, 2), date(2025, 10, 9)
    assert sms.hours_on(holiday, time(8), time(22)) == (time(10), time(18))
    assert call.hours_on(holiday, time(8), time(22)) is None
    assert notify.hours_on(holiday, time(8), time(22)) is None
    assert call.hours_on(workday, time(8), time(22)) == (time(8), time(22))
    assert (sms.rule_text(), call.rule_text()) == ("10:00-18:00", "none")


def test_window_on_a_holiday_moves_to_the_next_allowed_instant() -> None:
    call = ChannelCalendar(NATIONAL_DAY, "call")
    sms = ChannelCalendar(NATIONAL_DAY, "sms")
    t = sh(date(2025, 10, 1), time(9))
    # Calls: nothing from 1 to 8 October (the 10th is blacked out): the 9th at 08:00.
    assert window_open_at(WINDOW, "Asia/Shanghai", t, call) == sh(date(2025, 10, 9), time(8))
    # SMS: the holiday's own hours, 10:00-18:00, the same day.
    assert window_open_at(WINDOW, "Asia/Shanghai", t, sms) == sh(date(2025, 10, 1), time(10))
    assert not in_window(WINDOW, "Asia/Shanghai", sh(date(2025, 10, 1), time(19)), sms)
    # The working Saturday keeps the regular window.
    saturday = sh(date(2025, 10, 11), time(7))
    assert window_open_at(WINDOW, "Asia/Shanghai", saturday, call) == sh(
        date(2025, 10, 11), time(8)
    )
    # Without a calendar nothing changes.
    assert window_open_at(WINDOW, "Asia/Shanghai", t) == t


def test_earliest_allowed_combines_caps_and_the_calendar() -> None:
    call = ChannelCalendar(NATIONAL_DAY, "call")
    caps = Caps(calls_per_day=1)
    history = [Contact(kind="call", at=sh(date(2025, 10, 9), time(9)))]
    # The 9th's one call is spent, the 10th is blacked out: Saturday the 11th (working).
    at = earliest_allowed(
        window=WINDOW,
        caps=caps,
        kind="call",
        history=history,
        time_zone="Asia/Shanghai",
        t=sh(date(2025, 10, 9), time(12)),
        calendar=call,
    )
    assert at == sh(date(2025, 10, 11), time(8))


def test_invalid_calendars_are_refused_with_the_reason() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"source": "holidays:us"}, "should match pattern"),
        ({"source": "outlook"}, "should match pattern"),
        ({"years": (2027, 2025)}, "must span 1 to 10 years"),
        ({"rest_days": [date(2025, 10, 4)]}, "weekdays only"),
        ({"working_days": [date(2025, 10, 9)]}, "weekend days only"),
        ({"on_rest_days": {"sms": {"start": "18:00", "end": "10:00"}}}, "must be after"),
        ({"on_rest_days": {"fax": "none"}}, "Input should be"),
    ]
    for fields, message in cases:
        with pytest.raises(ValidationError, match=message):
            Calendar.model_validate(fields)
    with pytest.raises(ValidationError, match="not a country code"):
        policy_with({"cn": {}})


def policy_with(calendars: dict[str, Any], **more: Any) -> Policy:
    return Policy.model_validate(
        {
            "id": "cal",
            "version": 1,
            "contact_windows": {"default": {"start": "08:00", "end": "22:00"}},
            "calendars": calendars,
            "hardship": {"reminder_template": "t", "reminder_before": "1d"},
            "stages": [
                {"id": "d1_sms", "offset": "1d", "channel": "sms", "template": "t"},
                {"id": "d1_call", "offset": "1d", "channel": "call_task", "queue": "general"},
            ],
            "templates": {"t": {"en": "Hi. Reply STOP to opt out."}},
            **more,
        }
    )


CALENDAR_POLICY = policy_with({"CN": NATIONAL_DAY.model_dump()})


def test_a_stage_due_on_a_holiday_waits_with_the_reason_in_its_label() -> None:
    # Due 30 September: D+1 is 1 October. The SMS keeps the holiday's 10:00-18:00...
    record = make_record(CALENDAR_POLICY, due_date=date(2025, 9, 30))
    now = sh(date(2025, 10, 1), time(8, 30))
    step = next_step(record, now)
    assert isinstance(step, WaitUntil) and step.stage is not None
    assert step.at == sh(date(2025, 10, 1), time(10))
    assert step.label == (
        "D+1 sms (d1_sms): deferred (rest day 2025-10-01 in CN, sms on rest days: 10:00-18:00)"
    )
    assert isinstance(next_step(record, step.at), Act)


def test_a_call_due_on_a_holiday_waits_for_the_next_working_day() -> None:
    record = make_record(CALENDAR_POLICY, due_date=date(2025, 9, 30))
    record.handled.append("d1_sms")
    step = next_step(record, sh(date(2025, 10, 1), time(0)))
    assert isinstance(step, WaitUntil) and step.stage is not None
    assert step.stage.id == "d1_call"
    assert step.at == sh(date(2025, 10, 9), time(8))
    assert "rest day 2025-10-01 in CN, call on rest days: none" in step.label


def test_old_snapshots_and_other_jurisdictions_decide_as_before() -> None:
    plain = policy_with({})
    for record in (
        make_record(plain, due_date=date(2025, 9, 30)),
        make_record(CALENDAR_POLICY, due_date=date(2025, 9, 30), jurisdiction="US"),
    ):
        record.handled.append("d1_sms")
        step = next_step(record, sh(date(2025, 10, 1), time(9)))
        assert isinstance(step, Act) and step.stage.id == "d1_call"
    # A snapshot recorded before calendars existed has no field at all: it loads empty.
    dumped = plain.model_dump(mode="json")
    del dumped["calendars"]
    assert Policy.model_validate(dumped).calendars == {}


def test_a_plan_reminder_on_a_rest_day_is_deferred_not_dropped() -> None:
    policy = policy_with({"CN": NATIONAL_DAY.model_dump() | {"on_rest_days": {}}})
    record = make_record(policy, due_date=date(2025, 9, 1))
    record.plan = PlanState(
        instalments=[Instalment(due_date=date(2025, 10, 9), amount_minor=100_000)],
        approved_at=sh(date(2025, 9, 20), time(9)),
        actor="specialist-1",
    )
    # The reminder is due a day before the instalment: the 8th, a holiday with no SMS. It
    # waits for Thursday the 9th's window, then goes.
    step = next_step(record, sh(date(2025, 10, 8), time(0)))
    assert isinstance(step, WaitUntil) and step.at == sh(date(2025, 10, 9), time(8))
    assert isinstance(next_step(record, step.at), RemindInstalment)

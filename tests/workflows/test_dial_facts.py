"""The facts stored with each dial attempt (`DialCheck.as_json`, read back by `from_json` for a
compliance receipt), and the dial check on a rest day of the calendar for calls. Fixed
instants only."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.budget import examples
from workflows.calendars import Calendar, ChannelCalendar, RestDayHours
from workflows.customer_state import InconvenientTime
from workflows.dial_caps import FACTS_VERSION, DialAttempt, DialCheck, DialOutcome, check_dial
from workflows.dial_caps import DialRefusal as Refusal
from workflows.policy import Caps, ContactWindow

SHANGHAI = "Asia/Shanghai"
WINDOW = ContactWindow(start=time(8), end=time(21))
CAPS = Caps(calls_per_day=6, calls_per_7_days=7, call_quiet_days_after_conversation=7)
# CN around National Day 2025: rest days 1-8 October, Saturday 11 October a swapped working day.
CN = Calendar(
    source="chinese_calendar",
    rest_days=tuple(date(2025, 10, d) for d in (1, 2, 3, 6, 7, 8)),
    working_days=(date(2025, 10, 11),),
    on_rest_days={"call": "none"},
)
NO_CALLS_ON_REST_DAYS = ChannelCalendar(CN, "call")
NOON_HOLIDAY = datetime(2025, 10, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def _check(now: datetime, calendar: ChannelCalendar | None) -> DialCheck:
    return check_dial(
        window=WINDOW, caps=CAPS, time_zone=SHANGHAI, history=[], now=now, calendar=calendar
    )


def test_no_dial_on_a_rest_day_without_call_hours_until_the_next_working_morning() -> None:
    check = _check(NOON_HOLIDAY, NO_CALLS_ON_REST_DAYS)
    assert check.refusal is Refusal.OUTSIDE_WINDOW
    assert check.rest_day and check.day_hours is None and not check.in_window
    # 4 and 5 October are the weekend: the next working day is Thursday 9 October.
    assert check.workable_from == datetime(2025, 10, 9, 8, 0, tzinfo=ZoneInfo(SHANGHAI))
    # Without the calendar the same instant is an ordinary Thursday noon.
    assert _check(NOON_HOLIDAY, None).allowed
    # The swapped working Saturday keeps the regular window.
    saturday = _check(datetime(2025, 10, 11, 4, 0, tzinfo=UTC), NO_CALLS_ON_REST_DAYS)
    assert saturday.allowed and not saturday.rest_day and saturday.day_hours == (time(8), time(21))


def test_a_rest_day_with_call_hours_keeps_them() -> None:
    short = CN.model_copy(
        update={"on_rest_days": {"call": RestDayHours(start="10:00", end="12:00")}}
    )
    calendar = ChannelCalendar(short, "call")
    late = _check(NOON_HOLIDAY, calendar)  # 12:00: the rest-day hours just ended
    assert late.refusal is Refusal.OUTSIDE_WINDOW and late.day_hours == (time(10), time(12))
    assert late.workable_from == datetime(2025, 10, 3, 10, 0, tzinfo=ZoneInfo(SHANGHAI))
    assert _check(NOON_HOLIDAY - timedelta(hours=1), calendar).allowed


def test_the_stored_facts_say_what_was_checked() -> None:
    history = [DialAttempt.of(NOON_HOLIDAY - timedelta(days=1), DialOutcome.REACHED)]
    check = check_dial(
        window=WINDOW,
        caps=CAPS,
        time_zone=SHANGHAI,
        history=history,
        now=NOON_HOLIDAY,
        calendar=NO_CALLS_ON_REST_DAYS,
    )
    facts = json.loads(json.dumps(check.as_json()))  # as the jsonb column gives it back
    assert facts["version"] == FACTS_VERSION
    assert facts["rest_day"] is True and facts["day_hours"] is None
    assert facts["refusal"] == "quiet_period"
    assert facts["last_conversation_at"] == "2025-10-01T04:00:00+00:00"
    assert facts["quiet_until"] == "2025-10-08T04:00:00+00:00"
    assert DialCheck.from_json(facts) == check
    with pytest.raises(ValueError, match="version"):
        DialCheck.from_json({**facts, "version": FACTS_VERSION + 1})


ZONES = [SHANGHAI, "America/New_York", "Europe/London", "Pacific/Chatham", "Mars/Olympus"]
EPOCH = datetime(2025, 9, 20, tzinfo=UTC)  # National Day and several DST changes follow
instants = st.integers(0, 40 * 24 * 60).map(lambda m: EPOCH + timedelta(minutes=m))


@settings(max_examples=examples(200, 40), deadline=None)
@given(
    st.sampled_from(ZONES),
    st.lists(st.tuples(instants, st.sampled_from(list(DialOutcome))), max_size=12),
    instants,
    st.sampled_from([None, NO_CALLS_ON_REST_DAYS]),
)
def test_the_facts_read_back_as_they_were_checked(
    zone: str,
    raw: list[tuple[datetime, DialOutcome]],
    now: datetime,
    calendar: ChannelCalendar | None,
) -> None:
    history = [DialAttempt.of(at, outcome) for at, outcome in raw if at <= now]
    check = check_dial(
        window=WINDOW, caps=CAPS, time_zone=zone, history=history, now=now, calendar=calendar
    )
    back = DialCheck.from_json(json.loads(json.dumps(check.as_json())))
    assert back == check
    if check.local_at is not None:  # back in the customer's zone, not a bare offset
        assert back.local_at is not None and str(back.local_at.tzinfo) == zone


# --- What the customer said (their preferences): no calls, inconvenient times ---------------

WEEKDAY_LUNCH = InconvenientTime(weekdays=(0, 1, 2, 3, 4), start="12:00", end="14:00")
THURSDAY_NOON = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def _said(
    now: datetime,
    history: list[DialAttempt] | None = None,
    times: tuple[InconvenientTime, ...] = (WEEKDAY_LUNCH,),
    refused: bool = False,
) -> DialCheck:
    return check_dial(
        window=WINDOW,
        caps=CAPS,
        time_zone=SHANGHAI,
        history=history or [],
        now=now,
        inconvenient=times,
        calls_refused=refused,
    )


def test_no_dial_in_a_time_the_customer_said_is_inconvenient() -> None:
    lunch = _said(THURSDAY_NOON)
    assert lunch.refusal is Refusal.INCONVENIENT_TIME and lunch.inconvenient_time
    assert lunch.workable_from == datetime(2026, 12, 3, 14, 0, tzinfo=ZoneInfo(SHANGHAI))
    assert _said(THURSDAY_NOON - timedelta(hours=1)).allowed
    # A daily cap moves the dial to the next morning; a range there moves it again.
    used_up = [
        DialAttempt.of(THURSDAY_NOON - timedelta(minutes=m), DialOutcome.BUSY) for m in range(1, 7)
    ]
    early = InconvenientTime(weekdays=(4,), start="08:00", end="09:30")  # Friday mornings
    capped = _said(THURSDAY_NOON, used_up, (WEEKDAY_LUNCH, early))
    assert capped.refusal is Refusal.DAILY_CAP and capped.inconvenient_time
    assert capped.workable_from == datetime(2026, 12, 4, 9, 30, tzinfo=ZoneInfo(SHANGHAI))


def test_a_customer_who_refused_calls_is_never_dialled() -> None:
    refused = _said(THURSDAY_NOON - timedelta(hours=1), times=(), refused=True)
    assert refused.refusal is Refusal.CALLS_REFUSED and refused.workable_from is None
    facts = json.loads(json.dumps(refused.as_json()))
    assert facts["calls_refused"] is True and DialCheck.from_json(facts) == refused


@st.composite
def inconvenient_times(draw: st.DrawFn) -> tuple[InconvenientTime, ...]:
    """Up to 3 ranges on distinct weekdays (the console refuses overlapping ones)."""
    days = draw(st.lists(st.integers(0, 6), unique=True, max_size=3))
    ranges = []
    for day in days:
        start = draw(st.integers(0, 22))
        end = draw(st.integers(start + 1, 24))
        ranges.append(
            InconvenientTime(
                weekdays=(day,), start=time(start), end=time.max if end == 24 else time(end)
            )
        )
    return tuple(ranges)


@settings(max_examples=examples(200, 40), deadline=None)
@given(
    st.sampled_from(ZONES[:-1]),
    st.lists(st.tuples(instants, st.sampled_from(list(DialOutcome))), max_size=12),
    instants,
    inconvenient_times(),
    st.sampled_from([None, NO_CALLS_ON_REST_DAYS]),
)
def test_inconvenient_times_are_never_dialled_and_workable_from_respects_them(
    zone: str,
    raw: list[tuple[datetime, DialOutcome]],
    now: datetime,
    times: tuple[InconvenientTime, ...],
    calendar: ChannelCalendar | None,
) -> None:
    history = [DialAttempt.of(at, outcome) for at, outcome in raw if at <= now]

    def check(t: datetime, said: tuple[InconvenientTime, ...]) -> DialCheck:
        return check_dial(
            window=WINDOW,
            caps=CAPS,
            time_zone=zone,
            history=history,
            now=t,
            calendar=calendar,
            inconvenient=said,
        )

    def stated(t: datetime) -> bool:
        local = t.astimezone(ZoneInfo(zone))
        clock = local.time()
        return any(
            local.weekday() in r.weekdays
            and r.start <= clock
            and (clock < r.end or r.end == time.max)
            for r in times
        )

    checked = check(now, times)
    assert checked.allowed == (check(now, ()).allowed and not stated(now))
    if checked.workable_from is not None:
        later = checked.workable_from
        assert check(later, ()).allowed and not stated(later)
        assert check(later, times).allowed

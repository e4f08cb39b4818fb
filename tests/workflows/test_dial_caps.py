"""The call caps at the point of contact (`workflows.dial_caps`): examples, then properties
checked against a brute-force reading of the rules. Fixed instants only."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.budget import examples
from workflows.calendars import Calendar, ChannelCalendar, RestDayHours, RestDayRule
from workflows.dial_caps import (
    DialAttempt,
    DialCheck,
    DialOutcome,
    DialRefusal,
    check_dial,
)
from workflows.policy import Caps, ContactWindow

WINDOW = ContactWindow(start=time(8), end=time(21))
CAPS = Caps(calls_per_day=6, calls_per_7_days=7, call_quiet_days_after_conversation=7)
SHANGHAI = "Asia/Shanghai"
# 2026-12-03 10:00 in Shanghai.
NOON_ISH = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def _at(hours_before: float) -> datetime:
    return NOON_ISH - timedelta(hours=hours_before)


def _check(history: list[DialAttempt], now: datetime = NOON_ISH, caps: Caps = CAPS) -> DialCheck:
    return check_dial(window=WINDOW, caps=caps, time_zone=SHANGHAI, history=history, now=now)


def test_a_fresh_number_inside_the_window_may_be_dialled() -> None:
    check = _check([])
    assert check.allowed and check.workable_from == NOON_ISH
    assert check.local_at == datetime(2026, 12, 3, 10, 0, tzinfo=ZoneInfo(SHANGHAI))
    assert (check.unanswered_today, check.attempts_7_days) == (0, 0)


def test_six_unanswered_today_wait_for_local_midnight() -> None:
    # Two of the seven 7-day attempts were answered (wrong party): they leave the daily cap.
    history = [DialAttempt.of(_at(h / 10), DialOutcome.NO_ANSWER) for h in range(1, 7)]
    check = _check(history, caps=CAPS.model_copy(update={"calls_per_7_days": 100}))
    assert check.refusal is DialRefusal.DAILY_CAP and check.unanswered_today == 6
    # Midnight is outside the window: the next local morning at 08:00.
    assert check.workable_from == datetime(2026, 12, 4, 8, 0, tzinfo=ZoneInfo(SHANGHAI))


def test_answered_attempts_do_not_use_the_daily_cap_but_do_use_the_weekly_one() -> None:
    history = [DialAttempt.of(_at(h), DialOutcome.WRONG_PARTY) for h in (1, 2, 3, 4, 5, 6)]
    check = _check(history)
    assert check.allowed and check.unanswered_today == 0 and check.attempts_7_days == 6
    history.append(DialAttempt.of(_at(30), DialOutcome.BUSY))
    weekly = _check(history)
    assert weekly.refusal is DialRefusal.WEEKLY_CAP
    # The oldest (04:00 local on 12-02) is 7 days old at 04:00 on 12-09, outside the window:
    # workable when the window opens that morning.
    assert weekly.workable_from == datetime(2026, 12, 9, 8, 0, tzinfo=ZoneInfo(SHANGHAI))


def test_a_conversation_starts_the_quiet_period() -> None:
    history = [DialAttempt.of(_at(1), DialOutcome.REACHED)]
    check = _check(history)
    assert check.refusal is DialRefusal.QUIET_PERIOD
    assert check.quiet_until == _at(1) + timedelta(days=7)
    assert check.workable_from == _at(1) + timedelta(days=7)
    refused = _check([DialAttempt.of(_at(1), DialOutcome.REFUSED)])
    assert refused.refusal is DialRefusal.QUIET_PERIOD


def test_outside_the_window_and_unknown_zones() -> None:
    night = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    check = _check([], now=night)
    assert check.refusal is DialRefusal.OUTSIDE_WINDOW and not check.in_window
    assert check.workable_from == datetime(2026, 12, 4, 8, 0, tzinfo=ZoneInfo(SHANGHAI))
    unknown = check_dial(window=WINDOW, caps=CAPS, time_zone="Mars/Olympus", history=[], now=night)
    assert unknown.refusal is DialRefusal.UNKNOWN_TIME_ZONE and unknown.workable_from is None


def test_a_cap_of_zero_never_allows_a_dial() -> None:
    check = _check([], caps=CAPS.model_copy(update={"calls_per_day": 0}))
    assert check.refusal is DialRefusal.NO_CALLS and check.workable_from is None


def test_the_checked_facts_are_plain_json() -> None:
    facts = _check([DialAttempt.of(_at(1), DialOutcome.NO_ANSWER)]).as_json()
    assert facts["local_at"] == "2026-12-03T10:00:00+08:00"
    assert facts["window"] == {"start": "08:00:00", "end": "21:00:00"}
    assert facts["unanswered_today"] == 1 and facts["refusal"] is None
    assert facts["caps"]["calls_per_day"] == 6


# --- Properties, against a brute-force reading of the rules ---------------------------------

ZONES = [SHANGHAI, "America/New_York", "Europe/London", "Australia/Sydney", "Pacific/Chatham"]
EPOCH = datetime(2026, 3, 1, tzinfo=UTC)  # DST changes in several of the zones follow


Rule = tuple[ContactWindow, Caps, str, ChannelCalendar | None]


def brute_allowed(rule: Rule, history: list[DialAttempt], t: datetime) -> bool:
    """The rules as written, one by one, with no shared helper (the calendar's hours for the
    local day are the calendar's own answer)."""
    window, caps, zone, calendar = rule
    local = t.astimezone(ZoneInfo(zone))
    hours = (window.start, window.end)
    if calendar is not None:
        day_hours = calendar.hours_on(local.date(), window.start, window.end)
        if day_hours is None:
            return False
        hours = day_hours
    past = [a for a in history if a.at <= t]
    unanswered_today = [
        a for a in past if a.unanswered and a.at.astimezone(ZoneInfo(zone)).date() == local.date()
    ]
    week = [a for a in past if a.at > t - timedelta(days=7)]
    quiet = timedelta(days=caps.call_quiet_days_after_conversation)
    talking = [a for a in past if a.conversation and t < a.at + quiet]
    return (
        len(unanswered_today) < caps.calls_per_day
        and len(week) < caps.calls_per_7_days
        and not talking
        and hours[0] <= local.time() < hours[1]
    )


def _hours(draw: st.DrawFn) -> tuple[time, time]:
    start = draw(st.integers(0, 20))
    end = draw(st.integers(start + 1, 24))
    return time(start), time(23, 59, 59) if end == 24 else time(end)


@st.composite
def calendars(draw: st.DrawFn) -> ChannelCalendar | None:
    """None, or weekends plus a few blackout days, with no calls or other hours on them."""
    if draw(st.booleans()):
        return None
    days = st.integers(0, 45).map(lambda n: (EPOCH + timedelta(days=n)).date())
    blackouts = tuple(sorted(set(draw(st.lists(days, max_size=6)))))
    on_rest: RestDayRule = "none"
    if draw(st.booleans()):
        start, end = _hours(draw)
        on_rest = RestDayHours(start=start, end=end)
    calendar = Calendar(blackout_days=blackouts, on_rest_days={"call": on_rest})
    return ChannelCalendar(calendar, "call")


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    start, end = _hours(draw)
    window = ContactWindow(start=start, end=end)
    caps = Caps(
        calls_per_day=draw(st.integers(0, 6)),
        calls_per_7_days=draw(st.integers(0, 9)),
        call_quiet_days_after_conversation=draw(st.integers(0, 8)),
    )
    return window, caps, draw(st.sampled_from(ZONES)), draw(calendars())


instants = st.integers(0, 40 * 24 * 60).map(lambda m: EPOCH + timedelta(minutes=m))
outcomes = st.sampled_from(list(DialOutcome))


@settings(max_examples=examples(300, 60), deadline=None)
@given(rules(), st.lists(st.tuples(instants, outcomes), max_size=25), instants, st.data())
def test_the_check_agrees_with_the_rules_and_workable_from_is_the_first_allowed_instant(
    rule: Rule,
    raw: list[tuple[datetime, DialOutcome]],
    now: datetime,
    data: st.DataObject,
) -> None:
    window, caps, zone, calendar = rule
    history = [DialAttempt.of(at, outcome) for at, outcome in raw if at <= now]
    check = check_dial(
        window=window, caps=caps, time_zone=zone, history=history, now=now, calendar=calendar
    )
    assert check.allowed == brute_allowed(rule, history, now)
    if check.workable_from is None:
        assert caps.calls_per_day == 0 or caps.calls_per_7_days == 0
        return
    assert check.workable_from >= now
    assert brute_allowed(rule, history, check.workable_from)
    # Nothing earlier is allowed: probe instants between now and workable_from.
    span = int((check.workable_from - now).total_seconds())
    if span > 0:
        for seconds in data.draw(st.lists(st.integers(0, span - 1), max_size=8)):
            probe = now + timedelta(seconds=seconds)
            assert not brute_allowed(rule, history, probe), probe


@settings(max_examples=examples(200, 40), deadline=None)
@given(rules(), st.lists(st.tuples(instants, outcomes), max_size=40))
def test_dials_recorded_only_when_allowed_never_break_a_cap(
    rule: Rule, tries: list[tuple[datetime, DialOutcome]]
) -> None:
    """Agents try to dial at random instants; each allowed try is recorded. Every recorded
    dial was within the window and the caps given the dials before it."""
    window, caps, zone, calendar = rule
    recorded: list[DialAttempt] = []
    for at, outcome in sorted(tries, key=lambda pair: pair[0]):
        check = check_dial(
            window=window, caps=caps, time_zone=zone, history=recorded, now=at, calendar=calendar
        )
        if check.allowed:
            recorded.append(DialAttempt.of(at, outcome))
    for index, attempt in enumerate(recorded):
        before = recorded[:index]
        # Same-instant dials: the earlier ones are history for the later one.
        assert brute_allowed(rule, before, attempt.at)
        day = attempt.at.astimezone(ZoneInfo(zone)).date()
        unanswered = [
            a
            for a in recorded[: index + 1]
            if a.unanswered and a.at.astimezone(ZoneInfo(zone)).date() == day
        ]
        assert len(unanswered) <= caps.calls_per_day
        week = [a for a in recorded[: index + 1] if a.at > attempt.at - timedelta(days=7)]
        assert len(week) <= caps.calls_per_7_days

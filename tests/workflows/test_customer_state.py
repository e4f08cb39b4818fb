"""Vulnerability and the customer's stated preferences in the pure core, without Temporal."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from tests.workflows.records import make_record
from tests.workflows.test_decisions import DAY, HOUR, MIDNIGHT, POLICY
from workflows import handlers
from workflows.customer_rules import plan_rules, promise_rules
from workflows.customer_state import (
    MAX_INCONVENIENT_TIMES,
    UNTIL_MIDNIGHT,
    ContactPreferences,
    InconvenientTime,
    PreferencesState,
    VulnerabilityCategory,
    VulnerabilityChange,
)
from workflows.decisions import Act, PassOver, Suppress, WaitUntil, next_step
from workflows.handlers import Message, receive
from workflows.policy import CallQueue, Policy
from workflows.preferences import (
    convenient_weekdays,
    earliest_convenient,
    inconvenient_at,
    next_convenient,
)
from workflows.types import AccountRecord, ContactEntry, HardshipDecision, Instalment, PromiseToPay

WED_10 = MIDNIGHT + DAY + 10 * HOUR  # d1's time: Wednesday 2026-03-11 10:00 in Shanghai
LUNCH = InconvenientTime(weekdays=(0, 1, 2, 3, 4), start=time(9), end=time(12))
NY = "America/New_York"


def policy_with(**section: Any) -> Policy:
    return Policy.model_validate(POLICY.model_dump() | {"vulnerable": section})


def prefs(*times: InconvenientTime, refused: tuple[str, ...] = ()) -> PreferencesState:
    return PreferencesState(
        inconvenient_times=times, refused_channels=refused, since=MIDNIGHT, actor="a1"
    )


# --- the arithmetic ------------------------------------------------------------------------


def test_an_instant_inside_a_range_on_its_weekday_is_inconvenient() -> None:
    assert inconvenient_at([LUNCH], "Asia/Shanghai", WED_10) == LUNCH
    assert inconvenient_at([LUNCH], "Asia/Shanghai", WED_10 + 2 * HOUR) is None  # end exclusive
    saturday = WED_10 + 3 * DAY
    assert inconvenient_at([LUNCH], "Asia/Shanghai", saturday) is None


def test_the_next_convenient_instant_is_the_range_end_chained_across_adjacent_ranges() -> None:
    after = InconvenientTime(weekdays=(2,), start=time(12), end=time(13, 30))
    got = next_convenient([LUNCH, after], "Asia/Shanghai", WED_10)
    assert got == MIDNIGHT + DAY + 13 * HOUR + timedelta(minutes=30)


def test_a_range_until_midnight_ends_at_the_next_local_day() -> None:
    evening = InconvenientTime(weekdays=(2,), start=time(20), end=UNTIL_MIDNIGHT)
    got = next_convenient([evening], "Asia/Shanghai", MIDNIGHT + DAY + 21 * HOUR)
    assert got == MIDNIGHT + 2 * DAY
    assert evening.label() == "Wed 20:00-24:00"


def test_the_repeated_hour_when_dst_ends_is_left_forward_not_back() -> None:
    # 2026-11-01 01:00-02:00 happens twice in New York (Sunday).
    night = InconvenientTime(weekdays=(6,), start=time(1), end=time(1, 30))
    second_pass = datetime(2026, 11, 1, 6, 10, tzinfo=UTC)  # 01:10 EST, the second 01:10
    assert inconvenient_at([night], NY, second_pass) == night
    got = next_convenient([night], NY, second_pass)
    assert got == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert got > second_pass and inconvenient_at([night], NY, got) is None


def test_earliest_convenient_composes_with_the_other_rules() -> None:
    def window(t: datetime) -> datetime | None:  # 08:00-21:00 Shanghai, every day
        local = (t + 8 * HOUR).time()
        if time(8) <= local < time(21):
            return t
        day = (t + 8 * HOUR).date() + (timedelta(days=1) if local >= time(21) else timedelta(0))
        return datetime.combine(day, time(8), tzinfo=UTC) - 8 * HOUR

    morning = InconvenientTime(weekdays=(2,), start=time(7, 30), end=time(12))
    got = earliest_convenient(window, [morning], "Asia/Shanghai", MIDNIGHT + DAY + 7 * HOUR)
    assert got == MIDNIGHT + DAY + 12 * HOUR  # 07:00 -> window 08:00 -> its end 12:00
    assert earliest_convenient(window, [], "Asia/Shanghai", WED_10) == WED_10
    assert earliest_convenient(lambda t: None, [LUNCH], "Asia/Shanghai", WED_10) is None


def test_convenient_weekdays_keep_time_in_the_window() -> None:
    whole = InconvenientTime(weekdays=(0, 1, 2, 3, 4), start=time(8), end=time(21))
    assert convenient_weekdays([whole], time(8), time(21)) == [5, 6]
    assert convenient_weekdays([LUNCH], time(8), time(21)) == list(range(7))


# --- what the boundary refuses -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"weekdays": (0,), "start": "14:00", "end": "12:00"}, "is empty"),
        ({"weekdays": (0,), "start": "12:00", "end": "12:00"}, "is empty"),
        ({"weekdays": (), "start": "12:00", "end": "13:00"}, "at least 1"),
        ({"weekdays": (7,), "start": "12:00", "end": "13:00"}, r"0 \(Monday\) to 6"),
        ({"weekdays": (1, 1), "start": "12:00", "end": "13:00"}, "repeated"),
    ],
)
def test_a_bad_range_is_refused_precisely(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        InconvenientTime.model_validate(fields)


def test_overlapping_ranges_too_many_ranges_and_a_bad_category_are_refused() -> None:
    overlap = InconvenientTime(weekdays=(2, 5), start=time(11), end=time(13))
    with pytest.raises(ValidationError, match=r"overlap on Wed: merge them"):
        ContactPreferences(actor="a1", inconvenient_times=(LUNCH, overlap))
    many = tuple(
        InconvenientTime(weekdays=(0,), start=time(h), end=time(h, 30))
        for h in range(MAX_INCONVENIENT_TIMES + 1)
    )
    with pytest.raises(ValidationError, match=f"at most {MAX_INCONVENIENT_TIMES} items"):
        ContactPreferences(actor="a1", inconvenient_times=many)
    with pytest.raises(ValidationError, match="category is required"):
        VulnerabilityChange(actor="a1", vulnerable=True)
    with pytest.raises(ValidationError, match="takes no category"):
        VulnerabilityChange(actor="a1", vulnerable=False, category=VulnerabilityCategory.ELDERLY)
    with pytest.raises(ValidationError, match="category"):
        VulnerabilityChange.model_validate({"actor": "a1", "vulnerable": True, "category": "sad"})


def _send(record: AccountRecord, update: handlers.Update[Any], payload: Any) -> str | None:
    before = record.model_dump()
    receipt = receive(record, Message(update, payload), WED_10)
    if receipt.rejected:
        assert record.model_dump() == before, "a rejected request changed the record"
    return receipt.rejected


def test_the_workflow_validators_refuse_what_changes_nothing_or_cannot_work() -> None:
    record = make_record(POLICY)
    clear = VulnerabilityChange(actor="a1", vulnerable=False)
    assert (
        _send(record, handlers.SET_VULNERABILITY, clear) == "the customer is not marked vulnerable"
    )
    mark = VulnerabilityChange(actor="a1", vulnerable=True, category=VulnerabilityCategory.ILLNESS)
    assert _send(record, handlers.SET_VULNERABILITY, mark) is None
    again = _send(record, handlers.SET_VULNERABILITY, mark)
    assert again is not None and again.startswith("the customer is already marked vulnerable")
    everything = InconvenientTime(weekdays=tuple(range(7)), start=time(7), end=time(23))
    whole_window = ContactPreferences(actor="a1", inconvenient_times=(everything,))
    refused = _send(record, handlers.SET_CONTACT_PREFERENCES, whole_window)
    assert refused is not None and "cover the whole contact window (08:00-22:00)" in refused
    closed = make_record(POLICY, balance_minor=0)
    assert "resolved" in (_send(closed, handlers.SET_VULNERABILITY, mark) or "")


def test_marking_and_clearing_is_recorded_with_who_when_and_category() -> None:
    record = make_record(POLICY)
    mark = VulnerabilityChange(actor="a1", vulnerable=True, category=VulnerabilityCategory.ELDERLY)
    receive(record, Message(handlers.SET_VULNERABILITY, mark), WED_10)
    assert record.vulnerable and record.vulnerability is not None
    assert (record.vulnerability.category, record.vulnerability.actor) == ("elderly", "a1")
    assert record.vulnerability.since == WED_10
    assert record.history[-1] == "marked vulnerable (elderly) by a1"
    receive(
        record,
        Message(handlers.SET_VULNERABILITY, VulnerabilityChange(actor="a2", vulnerable=False)),
        WED_10,
    )
    assert not record.vulnerable and record.vulnerability is None
    assert record.history[-1] == "vulnerability cleared by a2"


def test_empty_preferences_clear_them() -> None:
    record = make_record(POLICY, preferences=prefs(LUNCH))
    receive(
        record, Message(handlers.SET_CONTACT_PREFERENCES, ContactPreferences(actor="a1")), WED_10
    )
    assert record.preferences is None


# --- the decision core honours them ---------------------------------------------------------


def test_a_stage_in_an_inconvenient_time_waits_for_its_end() -> None:
    record = make_record(POLICY, handled=["before"], preferences=prefs(LUNCH))
    step = next_step(record, WED_10)
    assert isinstance(step, WaitUntil) and step.at == MIDNIGHT + DAY + 12 * HOUR
    assert isinstance(next_step(record, step.at), Act)


def test_a_refused_channel_is_suppressed_with_a_reason() -> None:
    record = make_record(POLICY, handled=["before"], preferences=prefs(refused=("sms",)))
    step = next_step(record, WED_10)
    assert isinstance(step, Suppress) and step.reason == "customer_refused_sms"
    calls = make_record(POLICY, handled=["before", "d1"], preferences=prefs(refused=("call",)))
    call_step = next_step(calls, MIDNIGHT + 3 * DAY + 9 * HOUR)
    assert isinstance(call_step, Suppress) and call_step.reason == "customer_refused_call"


def test_without_the_section_a_vulnerable_customer_is_treated_as_before() -> None:
    plain = make_record(POLICY, handled=["before"], vulnerable=True)
    assert isinstance(next_step(plain, WED_10), Act)
    assert plain.call_queue(CallQueue.GENERAL) is CallQueue.SPECIALIST
    assert promise_rules(plain) == POLICY.promise and plan_rules(plain) == POLICY.hardship
    # The section's defaults change nothing either.
    empty = make_record(policy_with(), handled=["before"], vulnerable=True)
    assert next_step(empty, WED_10) == next_step(plain, WED_10)


def test_the_vulnerable_section_adapts_queue_channels_stages_and_cadence() -> None:
    policy = policy_with(
        queue="supervisor",
        refused_channels=["sms"],
        skip_stages=["d3"],
        min_days_between_contacts=4,
    )
    record = make_record(policy, handled=["before"], vulnerable=True)
    assert record.call_queue(CallQueue.GENERAL) is CallQueue.SUPERVISOR
    step = next_step(record, WED_10)
    assert isinstance(step, Suppress) and step.reason == "vulnerable_no_sms"
    skipped = make_record(policy, handled=["before", "d1"], vulnerable=True)
    passed = next_step(skipped, MIDNIGHT + 3 * DAY + 9 * HOUR)
    assert isinstance(passed, PassOver) and [s.id for s in passed.stages] == ["d3"]
    # Cadence: d3's call waits four days after the last SMS.
    sent = ContactEntry(channel="sms", stage_id="d1", at=WED_10, outcome="sent")
    cadence = policy_with(min_days_between_contacts=4)
    paced = make_record(cadence, handled=["before", "d1"], vulnerable=True, contacts=[sent])
    wait = next_step(paced, MIDNIGHT + 3 * DAY + 9 * HOUR)
    assert isinstance(wait, WaitUntil) and wait.at == WED_10 + 4 * DAY
    # Not vulnerable (cleared): none of it applies.
    cleared = make_record(cadence, handled=["before", "d1"], contacts=[sent])
    assert isinstance(next_step(cleared, MIDNIGHT + 3 * DAY + 9 * HOUR), Act)


def test_promise_and_plan_validation_use_the_vulnerable_limits() -> None:
    policy = policy_with(
        promise_max_days=30, promise_min_percent=5, plan_max_instalments=24, plan_max_days=730
    )
    late = PromiseToPay(actor="a1", amount_minor=5_000, promised_date=date(2026, 4, 5))
    for vulnerable, expected in ((False, "at most 14 days"), (True, None)):
        record = make_record(policy, vulnerable=vulnerable)
        answer = _send(record, handlers.PROMISE_TO_PAY, late)
        assert (answer is None) if expected is None else (expected in (answer or "")), answer
    plan = [
        Instalment(due_date=date(2026, 3, 12) + timedelta(days=30 * i), amount_minor=5_000)
        for i in range(20)
    ]
    decision = HardshipDecision(actor="s1", approve=True, plan=plan)
    ordinary = make_record(policy, hardship_pending=True)
    assert _send(ordinary, handlers.DECIDE_HARDSHIP, decision) == "at most 12 instalments"
    fragile = make_record(policy, hardship_pending=True, vulnerable=True)
    assert _send(fragile, handlers.DECIDE_HARDSHIP, decision) is None


def test_a_policy_section_naming_an_unknown_stage_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"vulnerable\.skip_stages: nope not a stage id"):
        policy_with(skip_stages=["nope"])

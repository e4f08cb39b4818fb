"""The facts a contact's receipt records, as `workflows/contact_facts.py` builds them for every
contact `contact_attempt` makes: the window and calendar rule applied, caps, state, policy."""

from __future__ import annotations

from datetime import UTC, datetime, time

from tests.workflows.records import make_record
from tests.workflows.test_calendars import CALENDAR_POLICY, policy_with
from workflows.contact_facts import facts_for

# 10:30 in Shanghai (the records' zone) on 1 October 2025, a national holiday; and 9 October,
# a working Thursday.
HOLIDAY = datetime(2025, 10, 1, 2, 30, tzinfo=UTC)
WORKING_DAY = datetime(2025, 10, 9, 2, 30, tzinfo=UTC)


def test_a_stage_records_its_window_caps_state_and_policy() -> None:
    record = make_record(
        policy_with({}), contact_ceased=True, open_disputes=["d-1"], vulnerable=True
    )
    facts = facts_for(record, "d1_sms", now=WORKING_DAY)
    assert (facts.basis, facts.decided_at) == ("stage", WORKING_DAY)
    assert (facts.policy_id, facts.policy_version, facts.jurisdiction) == ("cal", 1, "CN")
    assert (facts.window_start, facts.window_end, facts.calendar_rule) == (
        time(8),
        time(22),
        None,
    )
    caps = record.policy.caps
    assert (facts.sms_per_day, facts.calls_per_7_days) == (caps.sms_per_day, caps.calls_per_7_days)
    assert (facts.contact_ceased, facts.open_disputes, facts.vulnerable) == (True, 1, True)


def test_on_a_rest_day_the_channels_rest_day_hours_are_the_window_applied() -> None:
    record = make_record(CALENDAR_POLICY)
    sms = facts_for(record, "d1_sms", now=HOLIDAY)
    assert (sms.window_start, sms.window_end) == (time(10), time(18))
    assert sms.calendar_rule == "rest day 2025-10-01 in CN, sms on rest days: 10:00-18:00"
    working = facts_for(record, "d1_sms", now=WORKING_DAY)
    assert (working.window_start, working.window_end) == (time(8), time(22))
    assert working.calendar_rule == "working day 2025-10-09 in CN"


def test_instalments_fallbacks_and_requested_tasks_are_told_apart() -> None:
    record = make_record(CALENDAR_POLICY)
    assert facts_for(record, "plan_instalment_1", now=WORKING_DAY).basis == "instalment"
    fallback = facts_for(record, "d1_sms_fallback", "fallback", now=WORKING_DAY)
    assert (fallback.basis, fallback.window_start) == ("fallback", time(8))
    requested = facts_for(record, "callback_1", "requested", now=HOLIDAY)
    assert (requested.window_start, requested.window_end, requested.calendar_rule) == (
        None,
        None,
        None,
    )

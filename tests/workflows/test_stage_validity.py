"""Stage validity in the pure core: stages end, expired stages are passed over, the written
notice precedes the first call (workflows/stage_validity.py, workflows/stage_ends.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from overdue.policy_files import load_policy
from tests.workflows.records import TZ, make_record
from workflows.decisions import (
    Act,
    PassOver,
    Step,
    Suppress,
    WaitUntil,
    next_step,
    next_step_before_compliance,
    settle,
)
from workflows.policy import Policy
from workflows.simulation import SimulatedContact, simulate
from workflows.types import (
    AccountRecord,
    ContactEntry,
    PauseRequest,
    ResumeRequest,
    SmsConsentChanged,
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = load_policy(ROOT / "policies" / "default.yaml")
DUE = date(2026, 12, 1)
DAY = timedelta(days=1)


def local(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


def first_contacts(start: datetime, days: int = 2, **changes: Any) -> list[SimulatedContact]:
    record = make_record(DEFAULT, due_date=DUE, started_at=start, **changes)
    return simulate(record, [], start, start + days * DAY)


def named(contacts: list[SimulatedContact]) -> list[tuple[str, time]]:
    return [(c.stage_id, c.at.astimezone(ZoneInfo(TZ)).time()) for c in contacts]


def decide(record: AccountRecord, now: datetime) -> Step:
    """The next step after the expired stages are passed over (they are, first)."""
    step = next_step(record, now)
    if isinstance(step, PassOver) and step.expired:
        settle(record, step)
        return next_step(record, now)
    return step


# --- the bug reports of issue 14 -----------------------------------------------------------


@pytest.mark.parametrize("clock", [time(8), time(8, 30), time(9, 15), time(9, 59, 59)])
def test_due_yesterday_reported_between_eight_and_ten_sends_no_due_soon_sms(clock: time) -> None:
    start = local(DUE + DAY, clock)
    record = make_record(DEFAULT, due_date=DUE, started_at=start)
    step = next_step(record, start)
    assert isinstance(step, PassOver) and [s.id for s in step.expired] == ["d_minus_3_sms"]
    # What the rules before this release did: the "due on 12-01" SMS, on 12-02.
    before = next_step_before_compliance(record, start)
    assert isinstance(before, Act) and before.stage.id == "d_minus_3_sms"

    contacts = first_contacts(start)
    assert "d_minus_3_sms" not in [c.stage_id for c in contacts]
    # The D+1 stages at 10:00: the written notice (the day-one SMS) and the app notice.
    assert named(contacts)[:2] == [("d1_sms", time(10)), ("d1_app_notice", time(10))]


def test_reported_two_days_late_at_14_39_the_written_notice_goes_before_the_call() -> None:
    start = local(DUE + 2 * DAY, time(14, 39))
    contacts = first_contacts(start)
    assert named(contacts)[:2] == [("d1_sms", time(14, 39)), ("d2_call", time(14, 39))]
    record = make_record(DEFAULT, due_date=DUE, started_at=start)
    # Before this release: the agent's call first, with no written notice before it.
    before = next_step_before_compliance(record, start)
    assert isinstance(before, Act) and before.stage.id == "d2_call"


@pytest.mark.parametrize("hour", range(24))
@pytest.mark.parametrize("days_late", [1, 2, 3, 10])
def test_a_late_start_at_any_hour_never_sends_due_soon_and_never_calls_first(
    hour: int, days_late: int
) -> None:
    start = local(DUE + days_late * DAY, time(hour, 17))
    contacts = first_contacts(start, days=20)
    stages = [c.stage_id for c in contacts]
    assert "d_minus_3_sms" not in stages
    assert stages[0] == "d1_sms"  # the written notice first, whatever is due
    for contact in contacts:  # customer contact only inside the CN window
        assert time(8) <= contact.at.astimezone(ZoneInfo(TZ)).time() < time(22)


def test_the_readme_table_at_every_hour_two_days_late() -> None:
    """What README.md's walkthrough table says, hour by hour (due two days ago, Shanghai)."""
    for hour in range(24):
        start = local(DUE + 2 * DAY, time(hour, 30))
        record = make_record(DEFAULT, due_date=DUE, started_at=start)
        contacts = simulate(record, [], start, start + DAY)
        first = named(contacts)
        if hour < 8:
            assert first[:3] == [
                ("d1_sms", time(8)),
                ("d1_app_notice", time(8)),
                ("d2_call", time(9)),
            ], hour
        elif hour == 8:
            assert first[:3] == [
                ("d1_sms", time(8, 30)),
                ("d1_app_notice", time(8, 30)),
                ("d2_call", time(9)),
            ], hour
        elif hour < 22:
            assert first[:2] == [("d1_sms", time(hour, 30)), ("d2_call", time(hour, 30))], hour
            assert "d1_app_notice" in record.skipped
        else:
            assert first[:2] == [("d1_sms", time(8)), ("d2_call", time(8))], hour
            assert "d1_app_notice" in record.skipped
        assert record.skipped[0] == "d_minus_3_sms", hour


# (days late, local hour of the start) -> the first two contacts: (stage, days after the due
# date, local time). The rows of docs/policies.md's "A late start, hour by hour".
TABLE = {
    (0, 9): [("d1_sms", 1, time(10)), ("d1_app_notice", 1, time(10))],
    (1, 3): [("d1_sms", 1, time(10)), ("d1_app_notice", 1, time(10))],
    (1, 9): [("d1_sms", 1, time(10)), ("d1_app_notice", 1, time(10))],
    (1, 15): [("d1_sms", 1, time(15)), ("d1_app_notice", 1, time(15)), ("d2_call", 2, time(9))],
    (1, 23): [("d1_sms", 2, time(8)), ("d1_app_notice", 2, time(8)), ("d2_call", 2, time(9))],
    (2, 3): [("d1_sms", 2, time(8)), ("d1_app_notice", 2, time(8)), ("d2_call", 2, time(9))],
    (2, 8): [("d1_sms", 2, time(8)), ("d1_app_notice", 2, time(8)), ("d2_call", 2, time(9))],
    (2, 15): [("d1_sms", 2, time(15)), ("d2_call", 2, time(15))],
    (2, 23): [("d1_sms", 3, time(8)), ("d2_call", 3, time(8))],
    # D+4 (Saturday 2026-12-05) and D+11 are CN rest days: SMS from 10:00, calls on Monday.
    (4, 15): [("d1_sms", 4, time(15)), ("d2_call", 6, time(8))],
    (4, 3): [("d1_sms", 4, time(10)), ("d2_call", 6, time(8))],
    (3, 15): [("d1_sms", 3, time(15)), ("d2_call", 3, time(15))],
    (10, 15): [("d1_sms", 10, time(15)), ("d7_sms", 11, time(10))],
    (16, 15): [("d1_sms", 16, time(15)), ("d15_collections_call", 16, time(15))],
}


@pytest.mark.parametrize(("days_late", "hour"), sorted(TABLE))
def test_the_late_start_table_of_the_policy_docs(days_late: int, hour: int) -> None:
    start = local(DUE + days_late * DAY, time(hour))
    contacts = first_contacts(start, days=3)
    expected = TABLE[(days_late, hour)]
    got = [
        (c.stage_id, (c.at.astimezone(ZoneInfo(TZ)).date() - DUE).days, named([c])[0][1])
        for c in contacts
    ]
    assert got[: len(expected)] == expected


# --- the written notice when it cannot go ---------------------------------------------------


def test_opted_out_of_sms_no_call_goes_without_the_written_notice() -> None:
    start = local(DUE + 2 * DAY, time(14, 39))
    record = make_record(DEFAULT, due_date=DUE, started_at=start, sms_opted_out=True)
    step = decide(record, start)
    assert isinstance(step, Suppress) and step.stage.id == "d1_sms"
    settle(record, step)
    call = next_step(record, start)
    assert isinstance(call, Suppress) and call.stage.id == "d2_call"
    assert call.reason == "no_written_notice: sms_opted_out"


def test_once_sms_is_allowed_again_the_notice_goes_first_then_the_call() -> None:
    start = local(DUE + 2 * DAY, time(14, 39))
    record = make_record(DEFAULT, due_date=DUE, started_at=start, sms_opted_out=True)
    opt_in = local(DUE + 10 * DAY, time(12))
    events = [(opt_in, SmsConsentChanged(opted_out=False, source="test"))]
    contacts = simulate(record, events, start, start + 20 * DAY)
    calls = [c for c in contacts if c.channel == "call_task"]
    assert [c.stage_id for c in calls] == ["d15_collections_call"]
    notice = next(c for c in contacts if c.stage_id == "d1_sms")
    assert notice.at == calls[0].at == local(DUE + 15 * DAY, time(9))
    assert "d1_sms" not in record.suppressed and "d1_sms" not in record.skipped
    assert record.written_notice_at == notice.at


def test_a_refused_notice_is_not_tried_again_and_the_call_is_suppressed() -> None:
    start = local(DUE + 2 * DAY, time(14, 39))
    record = make_record(DEFAULT, due_date=DUE, started_at=start)
    step = decide(record, start)
    assert isinstance(step, Act) and step.stage.id == "d1_sms"
    settle(record, step)
    record.attempts["d1_sms"] = 1
    record.handled.append("d1_sms")  # done with, never sent: the provider refused it
    call = next_step(record, start)
    assert isinstance(call, Suppress) and call.reason == "no_written_notice: refused"


def test_a_withheld_notice_is_decided_again() -> None:
    """A notice acting ahead of a call after it was passed over is open again: withheld (a
    payment in flight), it acts again rather than counting as refused."""
    start = local(DUE + 15 * DAY, time(9))
    record = make_record(
        DEFAULT, due_date=DUE, started_at=start, handled=["d_minus_3_sms", "d1_sms"]
    )
    record.skipped = ["d1_sms"]  # as the rules before this release left it
    record.handled += ["d1_app_notice", "d2_call", "d7_sms"]
    step = next_step(record, start)
    assert isinstance(step, Act) and step.stage.id == "d1_sms"
    assert settle(record, step) is not None
    record.attempts["d1_sms"] = 1  # attempted; withheld: the stage was not finished
    again = next_step(record, start)
    assert isinstance(again, Act) and again.stage.id == "d1_sms"
    assert record.skipped == []


# --- ends -------------------------------------------------------------------------------------


def policy_with(**changes: Any) -> Policy:
    data: dict[str, Any] = {
        "id": "ends",
        "version": 1,
        "contact_windows": {"default": {"start": "08:00", "end": "21:00"}},
        "stages": [
            {"id": "soon", "offset": "-2d", "channel": "sms", "template": "t", "send_at": "10:00"},
            {"id": "d1", "offset": "1d", "channel": "sms", "template": "t", "send_at": "10:00"},
            {"id": "d3", "offset": "3d", "channel": "notify", "kind": "app_notice"},
            {"id": "d9", "offset": "9d", "channel": "call_task", "queue": "general"},
        ],
        "templates": {"t": {"en": "Hi. Reply STOP to opt out."}},
    }
    for stage in data["stages"]:
        stage.update(changes.pop(stage["id"], {}))
    data.update(changes)
    return Policy.model_validate(data)


def test_a_stage_deferred_past_its_end_is_looked_at_again_at_its_end() -> None:
    policy = policy_with(d1={"until": "1d20h30m"})  # D+1 20:30; the window closes at 21:00
    record = make_record(policy, due_date=DUE, handled=["soon"])
    step = next_step(record, local(DUE + DAY, time(21, 30)))
    assert isinstance(step, PassOver) and [s.id for s in step.expired] == ["d1"]
    # An SMS already sent today defers d1 to tomorrow: it is looked at again at its end.
    evening = local(DUE + DAY, time(20))
    busy = make_record(policy, due_date=DUE, handled=["soon"])
    busy.record_contact(ContactEntry(channel="sms", stage_id="x", at=evening, outcome="sent"))
    deferred = next_step(busy, evening)
    assert isinstance(deferred, WaitUntil) and deferred.at == local(DUE + DAY, time(20, 30))


def test_next_stage_ends_a_stage_when_the_next_one_is_due() -> None:
    policy = policy_with(d1={"until": "next_stage"})
    record = make_record(policy, due_date=DUE, handled=["soon"])
    assert isinstance(next_step(record, local(DUE + 2 * DAY, time(20, 59))), Act)
    # Deferred by the window at 23:59, it is looked at again at its end, d3's time.
    waiting = next_step(record, local(DUE + 2 * DAY, time(23, 59)))
    assert isinstance(waiting, WaitUntil) and waiting.at == local(DUE + 3 * DAY, time(0))
    step = next_step(record, local(DUE + 3 * DAY, time(8)))  # d3, in the window
    assert isinstance(step, PassOver) and [s.id for s in step.expired] == ["d1"]
    assert isinstance(decide(record, local(DUE + 3 * DAY, time(8))), Act)


def test_a_pause_that_ends_after_a_stages_end_passes_it_over() -> None:
    policy = policy_with(d3={"until": "5d"})
    record = make_record(policy, due_date=DUE)
    start = local(DUE - 5 * DAY, time(12))
    events = [
        (local(DUE + 2 * DAY, time(12)), PauseRequest(actor="ops", reason="r")),
        (local(DUE + 6 * DAY, time(12)), ResumeRequest(actor="ops", reason="r")),
    ]
    contacts = simulate(record, events, start, start + 20 * DAY)
    assert [c.stage_id for c in contacts] == ["soon", "d1", "d9"]
    assert "d3 expired" in record.history and "d3" in record.skipped


# --- policy checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"d1": {"until": "1d"}}, "stage 'd1': until 1d must be after the stage's own time"),
        ({"d9": {"until": "next_stage"}}, "stage 'd9': until 'next_stage', but no later stage"),
        ({"d1": {"until": "soon"}}, "like '0d' or '5d', or 'next_stage'"),
        ({"written_notice": "nope"}, "written_notice 'nope' is not a stage id"),
        ({"written_notice": "d3"}, "must be an sms stage or a notify stage of kind letter"),
        ({"written_notice": "soon"}, "written_notice 'soon' must not end"),
        (
            {"written_notice": "d1", "d1": {"until": "4d"}},
            "written_notice 'd1' must not end",
        ),
        (
            {"written_notice": "d1", "d1": {"when": {"min_balance_minor": 5}}},
            "must apply to every account",
        ),
        ({"final_stage": "soon"}, "final_stage 'soon' must not end"),
    ],
)
def test_a_policy_with_a_bad_end_or_notice_is_refused_with_the_stage_id(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        policy_with(**changes)
    assert message in str(refused.value)


def test_the_written_notice_must_come_before_the_first_call() -> None:
    data = policy_with().model_dump(mode="json")
    data["stages"] = [data["stages"][3] | {"offset": "P1D"}, *data["stages"][1:3]]
    data["written_notice"] = "d1"
    with pytest.raises(ValidationError) as refused:
        Policy.model_validate(data)
    assert "must come before the first call_task stage 'd9'" in str(refused.value)


def test_ends_survive_the_json_round_trip_of_the_data_converter() -> None:
    policy = policy_with(soon={"until": "next_stage"}, d3={"until": "5d"}, written_notice="d1")
    again = Policy.model_validate_json(policy.model_dump_json())
    assert again == policy and again.stages[2].until == 5 * DAY
    assert again.stages[0].until == "next_stage"


def test_shipped_policies_name_their_written_notice() -> None:
    assert DEFAULT.written_notice == "d1_sms"
    assert DEFAULT.stages[0].until == timedelta(0)
    assert load_policy(ROOT / "policies" / "demo.yaml").written_notice == "t10s_sms"
    assert load_policy(ROOT / "tests" / "policies" / "fast.yaml").written_notice == "t1s_sms"

"""The pure decision core, without Temporal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from overdue.policy_files import load_policy
from tests.workflows.records import make_record
from workflows import account as acct
from workflows.acting import CONTACT_CHANNEL, contact_made
from workflows.decisions import (
    Act,
    BreakPromise,
    Finished,
    PassOver,
    Suppress,
    WaitForEvents,
    WaitUntil,
    anchor_time,
    apply_transition,
    begin_stage,
    days_past_due,
    finish_stage,
    next_step,
    settle,
)
from workflows.policy import Policy
from workflows.types import (
    AccountRecord,
    AccountState,
    ContactEntry,
    DisputeOpened,
    PaymentReported,
    PromiseToPay,
)

POLICY = Policy.model_validate(
    {
        "id": "p",
        "version": 1,
        "contact_windows": {
            "default": {"start": "08:00", "end": "21:00"},
            "CN": {"start": "08:00", "end": "22:00"},
        },
        "broken_promise_stage": "d1",
        "stages": [
            {
                "id": "before",
                "offset": "-2d",
                "channel": "sms",
                "template": "t",
                "send_at": "10:00",
            },
            {"id": "d1", "offset": "1d", "channel": "sms", "template": "t", "send_at": "10:00"},
            {
                "id": "d3",
                "offset": "3d",
                "channel": "call_task",
                "queue": "general",
                "send_at": "09:00",
            },
            {
                "id": "d5_big",
                "offset": "5d",
                "channel": "call_task",
                "queue": "general",
                "when": {"min_balance_minor": 500_000},
            },
        ],
        "templates": {"t": {"en": "Hi. Reply STOP to opt out."}},
    }
)
MIDNIGHT = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)  # 2026-03-10 00:00 in Asia/Shanghai
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def test_anchor_is_local_midnight_of_the_due_date() -> None:
    started = datetime(2026, 3, 1, tzinfo=UTC)
    assert anchor_time(POLICY, date(2026, 3, 10), "Asia/Shanghai", started) == MIDNIGHT
    demo = POLICY.model_copy(update={"anchor": "process_start"})
    assert anchor_time(demo, date(2026, 3, 10), "Asia/Shanghai", started) == started


def test_waits_for_the_first_stage_at_its_preferred_local_time() -> None:
    step = next_step(make_record(POLICY), MIDNIGHT - 5 * DAY)
    assert isinstance(step, WaitUntil)
    assert step.stage is not None and step.stage.id == "before"
    assert step.at == MIDNIGHT - 2 * DAY + 10 * HOUR


def test_acts_on_a_stage_whose_time_has_come() -> None:
    record = make_record(POLICY, handled=["before"])
    step = next_step(record, MIDNIGHT + DAY + 10 * HOUR)
    assert isinstance(step, Act)
    assert (step.stage.id, step.skipped) == ("d1", ())


def test_late_start_acts_on_the_latest_due_stage_and_skips_the_rest() -> None:
    record = make_record(POLICY)
    now = MIDNIGHT + 10 * DAY + 10 * HOUR
    expired = next_step(record, now)  # a pre-due stage ends at the due date
    assert isinstance(expired, PassOver) and [s.id for s in expired.expired] == ["before"]
    settle(record, expired)
    step = next_step(record, now)
    assert isinstance(step, Act)
    assert step.stage.id == "d3"
    assert [s.id for s in step.skipped] == ["d1"]
    assert [s.id for s in step.not_applicable] == ["d5_big"]


def test_a_stage_whose_conditions_fail_is_passed_over() -> None:
    record = make_record(POLICY, handled=["before", "d1", "d3"])
    step = next_step(record, MIDNIGHT + 6 * DAY)
    assert isinstance(step, PassOver)
    assert [s.id for s in step.stages] == ["d5_big"]
    big = make_record(POLICY, handled=["before", "d1", "d3"], balance_minor=600_000)
    big_step = next_step(big, MIDNIGHT + 6 * DAY + 10 * HOUR)
    assert isinstance(big_step, Act) and big_step.stage.id == "d5_big"


def test_outside_contact_hours_the_stage_is_deferred_to_the_window() -> None:
    record = make_record(POLICY, handled=["before", "d1"])
    late_evening = MIDNIGHT + 3 * DAY + 22 * HOUR + 30 * timedelta(minutes=1)  # 22:30 CST
    step = next_step(record, late_evening)
    assert isinstance(step, WaitUntil)
    assert step.at == MIDNIGHT + 4 * DAY + 8 * HOUR
    assert "deferred" in step.label


def test_sms_cap_defers_to_the_next_local_day() -> None:
    sent_today = ContactEntry(
        channel="sms", stage_id="x", at=MIDNIGHT + DAY + 9 * HOUR, outcome="sent"
    )
    record = make_record(POLICY, handled=["before"], contacts=[sent_today])
    step = next_step(record, MIDNIGHT + DAY + 10 * HOUR)
    assert isinstance(step, WaitUntil)
    assert step.at == MIDNIGHT + 2 * DAY + 8 * HOUR  # tomorrow, when the window opens


def test_opted_out_sms_is_suppressed_not_sent() -> None:
    record = make_record(POLICY, handled=["before"], sms_opted_out=True)
    step = next_step(record, MIDNIGHT + DAY + 10 * HOUR)
    assert isinstance(step, Suppress)
    assert (step.stage.id, step.reason) == ("d1", "sms_opted_out")


def test_dispute_stops_everything_until_it_is_closed() -> None:
    record = make_record(POLICY)
    acct.apply_dispute_opened(record, DisputeOpened(dispute_id="d-1", reason="not mine"))
    assert record.state is AccountState.DISPUTED
    assert isinstance(next_step(record, MIDNIGHT + 10 * DAY), WaitForEvents)


def test_promise_waits_until_the_date_plus_grace_then_breaks_and_resumes() -> None:
    now = MIDNIGHT + 3 * DAY + 10 * HOUR
    record = make_record(POLICY, handled=["before", "d1", "d3"])
    promise = PromiseToPay(actor="agent-7", amount_minor=50_000, promised_date=date(2026, 3, 16))
    acct.validate_promise(record, promise, now)
    acct.apply_promise(record, promise, now)
    step = next_step(record, now)
    assert isinstance(step, WaitUntil)
    deadline = MIDNIGHT + (16 + 2 + 1 - 10) * DAY  # end of the 18th, local
    assert step.at == deadline
    broken = next_step(record, deadline)
    assert isinstance(broken, BreakPromise)
    apply_transition(record, broken, deadline)
    resumed = next_step(record, deadline + 10 * HOUR)
    assert isinstance(resumed, Act) and resumed.stage.id == "d1"  # the broken-promise stage


def test_kept_promise_clears_and_the_process_continues_on_the_remainder() -> None:
    now = MIDNIGHT + 3 * DAY + 10 * HOUR
    record = make_record(POLICY, handled=["before", "d1", "d3"])
    acct.apply_promise(
        record, PromiseToPay(actor="a", amount_minor=40_000, promised_date=date(2026, 3, 15)), now
    )
    paid = PaymentReported(payment_id="p1", amount_minor=40_000, currency="CNY", paid_at=now)
    assert acct.apply_payment(record, paid)
    assert record.promise is None
    assert record.state is AccountState.ACTIVE
    assert record.balance_minor == 60_000


def test_resolved_account_is_finished() -> None:
    record = make_record(POLICY)
    acct.apply_payment(
        record,
        PaymentReported(payment_id="p", amount_minor=10**9, currency="CNY", paid_at=MIDNIGHT),
    )
    assert record.balance_minor == 0
    assert isinstance(next_step(record, MIDNIGHT), Finished)


def test_days_past_due_counts_local_calendar_days() -> None:
    due = date(2026, 3, 10)
    assert (
        days_past_due(due, "Asia/Shanghai", MIDNIGHT + 23 * HOUR + 30 * timedelta(minutes=1)) == 0
    )
    assert days_past_due(due, "Asia/Shanghai", MIDNIGHT + DAY + 30 * timedelta(minutes=1)) == 1
    assert days_past_due(due, "Asia/Shanghai", MIDNIGHT - 3 * DAY) == 0


# --- catch-up grace -----------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
STARTED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)


def outage_policy(grace: str, **changes: object) -> Policy:
    """Chaos-like: stages seconds apart from the process start, contact at any hour."""
    return Policy.model_validate(
        {
            "id": "outage",
            "version": 1,
            "anchor": "process_start",
            "contact_windows": {"default": {"start": "00:00", "end": "23:59:59"}},
            "catch_up_grace": grace,
            "stages": [
                {"id": "t15s_sms", "offset": "15s", "channel": "sms", "template": "t"},
                {"id": "t45s_notice", "offset": "45s", "channel": "notify", "kind": "app_notice"},
                {
                    "id": "t45s_big",
                    "offset": "45s",
                    "channel": "notify",
                    "kind": "letter",
                    "when": {"min_balance_minor": 10**9},
                },
                {"id": "t70s_call", "offset": "70s", "channel": "call_task", "queue": "general"},
                {"id": "t70s_notice", "offset": "70s", "channel": "notify", "kind": "letter"},
                {"id": "t300s_sms", "offset": "300s", "channel": "sms", "template": "t"},
            ],
            "templates": {"t": {"en": "Hi. Reply STOP to opt out."}},
            **changes,
        }
    )


def outage_record(grace: str, **changes: object) -> AccountRecord:
    return make_record(outage_policy(grace), started_at=STARTED, **changes)


def run_due_steps(record: AccountRecord, now: datetime) -> list[tuple[str, list[str]]]:
    """Settle and act on every Act step from `now`, a second apart: (stage acted, skipped)."""
    acted: list[tuple[str, list[str]]] = []
    while isinstance(step := next_step(record, now), Act):
        stage = settle(record, step)
        assert stage is not None
        acted.append((stage.id, [s.id for s in step.skipped]))
        begin_stage(record, stage)
        contact_made(record, CONTACT_CHANNEL[stage.channel], stage.id, now)
        finish_stage(record, stage)
        now += SECOND
    return acted


def test_policy_grace_defaults_to_zero() -> None:
    assert POLICY.catch_up_grace == timedelta(0)


def test_grace_zero_acts_on_the_latest_only_after_an_outage() -> None:
    # Down from 10 s to 80 s: three stages came due; only the latest pair acts, as before.
    record = outage_record("0s")
    step = next_step(record, STARTED + 80 * SECOND)
    assert isinstance(step, Act)
    assert step.stage.id == "t70s_call"
    assert [s.id for s in step.skipped] == ["t15s_sms", "t45s_notice"]
    assert [s.id for s in step.not_applicable] == ["t45s_big"]
    assert run_due_steps(record, STARTED + 80 * SECOND) == [
        ("t70s_call", ["t15s_sms", "t45s_notice"]),
        ("t70s_notice", []),
    ]
    assert record.skipped == ["t15s_sms", "t45s_notice"]


def test_within_the_grace_the_older_stage_acts_first_then_the_latest() -> None:
    # Down from 10 s to 80 s with a 60 s grace: t15s (65 s ago) is skipped; t45s (35 s ago)
    # acts first, then the t70s pair in list order, one per step.
    record = outage_record("60s")
    first = next_step(record, STARTED + 80 * SECOND)
    assert isinstance(first, Act)
    assert first.stage.id == "t45s_notice"
    assert [s.id for s in first.skipped] == ["t15s_sms"]
    assert [s.id for s in first.not_applicable] == ["t45s_big"]
    assert run_due_steps(record, STARTED + 80 * SECOND) == [
        ("t45s_notice", ["t15s_sms"]),
        ("t70s_call", []),
        ("t70s_notice", []),
    ]
    assert record.skipped == ["t15s_sms"]
    assert record.last_stage == "t70s_notice"
    waiting = next_step(record, STARTED + 90 * SECOND)
    assert isinstance(waiting, WaitUntil) and waiting.stage is not None
    assert waiting.stage.id == "t300s_sms"


def test_a_short_backlog_loses_no_stage() -> None:
    # Stages 25 s apart, the worker 30 s behind: each acts, the oldest first.
    record = outage_record("60s", handled=["t15s_sms", "t45s_big"])
    assert run_due_steps(record, STARTED + 100 * SECOND) == [
        ("t45s_notice", []),
        ("t70s_call", []),
        ("t70s_notice", []),
    ]
    assert record.skipped == []


@pytest.mark.parametrize(
    ("late", "acts", "skipped"),
    [
        (timedelta(0), "t45s_notice", []),  # t45s came due exactly 60 s ago: within the grace
        (SECOND, "t70s_call", ["t45s_notice"]),  # 61 s ago: beyond it
        (timedelta(days=3), "t300s_sms", ["t45s_notice", "t70s_call", "t70s_notice"]),
    ],
)
def test_an_earlier_stage_is_skipped_only_beyond_the_grace(
    late: timedelta, acts: str, skipped: list[str]
) -> None:
    record = outage_record("60s", handled=["t15s_sms", "t45s_big"])
    step = next_step(record, STARTED + 105 * SECOND + late)
    assert isinstance(step, Act)
    assert (step.stage.id, [s.id for s in step.skipped]) == (acts, skipped)


def test_within_the_grace_a_blocked_older_stage_is_suppressed_then_the_latest_acts() -> None:
    record = outage_record("60s", handled=["t45s_notice", "t45s_big"], sms_opted_out=True)
    step = next_step(record, STARTED + 72 * SECOND)
    assert isinstance(step, Suppress)
    assert (step.stage.id, step.reason, step.skipped) == ("t15s_sms", "sms_opted_out", ())
    assert settle(record, step) is None
    after = next_step(record, STARTED + 72 * SECOND)
    assert isinstance(after, Act) and after.stage.id == "t70s_call"
    assert record.suppressed == ["t15s_sms"] and record.skipped == []


def test_an_older_stage_deferred_by_a_cap_holds_the_latest_no_longer_than_its_grace() -> None:
    # t15s_sms is within the grace, but the day's one SMS went out: it could wait until the
    # next local day. The core looks again when its grace is over; then it is skipped and the
    # call, which no cap holds, goes ahead.
    sent = ContactEntry(channel="sms", stage_id="x", at=STARTED, outcome="sent")
    record = outage_record("60s", handled=["t45s_notice", "t45s_big"], contacts=[sent])
    step = next_step(record, STARTED + 72 * SECOND)
    assert isinstance(step, WaitUntil) and step.stage is not None
    assert step.stage.id == "t15s_sms"
    assert step.at == STARTED + (15 + 60 + 1) * SECOND
    after = next_step(record, step.at)
    assert isinstance(after, Act)
    assert after.stage.id == "t70s_call"
    assert [s.id for s in after.skipped] == ["t15s_sms"]


def test_an_older_stage_deferred_within_its_grace_still_acts_first() -> None:
    window = {"default": {"start": "12:02", "end": "23:00"}}
    started = STARTED - 8 * HOUR  # 12:00 in Asia/Shanghai
    record = make_record(
        outage_policy("1h", contact_windows=window),
        started_at=started,
        handled=["t45s_notice", "t45s_big"],
    )
    step = next_step(record, started + 72 * SECOND)  # 12:01:12 local
    assert isinstance(step, WaitUntil) and step.stage is not None
    assert step.stage.id == "t15s_sms"
    opens = started + 2 * MINUTE
    assert step.at == opens
    assert run_due_steps(record, opens) == [
        ("t15s_sms", []),
        ("t70s_call", []),
        ("t70s_notice", []),
    ]


def test_default_policy_late_start_ten_days_past_due_begins_at_the_written_notice() -> None:
    policy = load_policy(ROOT / "policies" / "default.yaml")
    assert policy.catch_up_grace == timedelta(hours=6)
    assert policy.written_notice == "d1_sms"
    now = MIDNIGHT + 10 * DAY + 11 * HOUR  # 11:00 local, 10 days past due
    record = make_record(policy, due_date=date(2026, 3, 10), started_at=now)
    assert days_past_due(record.due_date, record.time_zone, now) == 10
    first = next_step(record, now)
    assert isinstance(first, PassOver) and [s.id for s in first.expired] == ["d_minus_3_sms"]
    settle(record, first)
    # The written notice first (never skipped while unsent); the D+7 SMS, one SMS a day, waits
    # for the next morning: Saturday 2026-03-21, a rest day in CN's calendar, when SMS go
    # from 10:00 (the policy's `on_rest_days`).
    assert run_due_steps(record, now) == [("d1_sms", ["d1_app_notice", "d2_call"])]
    step = next_step(record, now + SECOND)
    assert isinstance(step, WaitUntil) and step.stage is not None
    assert step.stage.id == "d7_sms" and step.at == MIDNIGHT + 11 * DAY + 10 * HOUR
    assert "rest day 2026-03-21 in CN" in step.label
    assert record.skipped == ["d_minus_3_sms", "d1_app_notice", "d2_call"]
    assert "d_minus_3_sms expired" in record.history


def test_default_policy_an_outage_of_a_day_skips_the_stages_older_than_six_hours() -> None:
    policy = load_policy(ROOT / "policies" / "default.yaml")
    record = make_record(policy, handled=["d_minus_3_sms"])
    # Down from D+1 09:00 to D+2 09:30: the D+1 pair came due 23.5 h ago, the call 30 min ago.
    now = MIDNIGHT + 2 * DAY + 9 * HOUR + 30 * MINUTE
    # The written notice is never skipped while unsent: it acts first, then the call.
    assert run_due_steps(record, now) == [("d1_sms", ["d1_app_notice"]), ("d2_call", [])]

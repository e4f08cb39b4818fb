"""The pure decision core, without Temporal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.workflows.records import make_record
from workflows import account as acct
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
    days_past_due,
    next_step,
)
from workflows.policy import Policy
from workflows.types import (
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
        "templates": {"t": {"en": "hi"}},
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
    step = next_step(make_record(POLICY), MIDNIGHT + 10 * DAY + 10 * HOUR)
    assert isinstance(step, Act)
    assert step.stage.id == "d3"
    assert [s.id for s in step.skipped] == ["before", "d1"]
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

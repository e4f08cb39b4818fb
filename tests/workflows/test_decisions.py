"""The pure decision core, without Temporal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from workflows.decisions import (
    Act,
    Finished,
    Progress,
    WaitForEvents,
    WaitUntil,
    anchor_time,
    apply_payment,
    days_past_due,
    next_step,
)
from workflows.policy import Policy

POLICY = Policy.model_validate(
    {
        "id": "p",
        "version": 1,
        "stages": [
            {"id": "before", "offset": "-2d", "channel": "sms", "template": "t"},
            {"id": "d1", "offset": "1d", "channel": "sms", "template": "t"},
            {"id": "d3", "offset": "3d", "channel": "call_task", "queue": "general"},
        ],
        "templates": {"t": {"en": "hi"}},
    }
)
ANCHOR = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)  # 2026-03-10 00:00 in Asia/Shanghai


def progress(*handled: str, resolved: bool = False) -> Progress:
    return Progress(anchor_at=ANCHOR, resolved=resolved, handled=frozenset(handled))


def test_anchor_is_local_midnight_of_the_due_date() -> None:
    started = datetime(2026, 3, 1, tzinfo=UTC)
    assert anchor_time(POLICY, date(2026, 3, 10), "Asia/Shanghai", started) == ANCHOR
    demo = POLICY.model_copy(update={"anchor": "process_start"})
    assert anchor_time(demo, date(2026, 3, 10), "Asia/Shanghai", started) == started


def test_waits_for_the_first_pending_stage() -> None:
    step = next_step(POLICY, progress(), ANCHOR - timedelta(days=5))
    assert isinstance(step, WaitUntil)
    assert (step.stage.id, step.at) == ("before", ANCHOR - timedelta(days=2))


def test_acts_on_a_stage_whose_time_has_come() -> None:
    step = next_step(POLICY, progress("before"), ANCHOR + timedelta(days=1))
    assert isinstance(step, Act)
    assert (step.stage.id, step.skipped) == ("d1", ())


def test_late_start_acts_on_the_latest_due_stage_and_skips_the_rest() -> None:
    step = next_step(POLICY, progress(), ANCHOR + timedelta(days=10))
    assert isinstance(step, Act)
    assert step.stage.id == "d3"
    assert [s.id for s in step.skipped] == ["before", "d1"]


def test_all_stages_handled_waits_for_events_and_resolution_finishes() -> None:
    assert isinstance(next_step(POLICY, progress("before", "d1", "d3"), ANCHOR), WaitForEvents)
    assert isinstance(next_step(POLICY, progress(resolved=True), ANCHOR), Finished)


def test_days_past_due_counts_local_calendar_days() -> None:
    # 2026-03-10 23:30 in Shanghai is still day 0; 00:30 the next day is day 1.
    assert (
        days_past_due(date(2026, 3, 10), "Asia/Shanghai", ANCHOR + timedelta(hours=23, minutes=30))
        == 0
    )
    assert (
        days_past_due(date(2026, 3, 10), "Asia/Shanghai", ANCHOR + timedelta(hours=24, minutes=30))
        == 1
    )
    assert days_past_due(date(2026, 3, 10), "Asia/Shanghai", ANCHOR - timedelta(days=3)) == 0


def test_payments_never_make_the_balance_negative() -> None:
    assert apply_payment(1000, 400) == 600
    assert apply_payment(1000, 1500) == 0

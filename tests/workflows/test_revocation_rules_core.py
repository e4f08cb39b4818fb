"""The pure side of revocation: business days, and the record as signals and updates change it
(workflows/revocation.py, through the handlers table the workflow and the simulator share)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.workflows.test_overdue_account import POLICY
from workflows import handlers
from workflows.acting import new_record
from workflows.decisions import RevocationOverdue, Suppress, WaitUntil, next_step
from workflows.handlers import Message, receive
from workflows.policy import Policy
from workflows.revocation import add_business_days, is_weekend
from workflows.types import (
    AccountRecord,
    OverdueAccountInput,
    RevocationDecision,
    RevocationRequested,
)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 12, 3), 10, date(2026, 12, 17)),  # Thursday -> Thursday, two weekends
        (date(2026, 12, 2), 10, date(2026, 12, 16)),  # Wednesday -> Wednesday
        (date(2026, 12, 4), 1, date(2026, 12, 7)),  # Friday -> Monday
        (date(2026, 12, 5), 1, date(2026, 12, 7)),  # Saturday -> Monday
        (date(2026, 12, 6), 5, date(2026, 12, 11)),  # Sunday -> Friday
        (date(2026, 12, 3), 0, date(2026, 12, 3)),
    ],
)
def test_add_business_days_skips_weekends(start: date, n: int, expected: date) -> None:
    assert add_business_days(start, n) == expected


def test_add_business_days_takes_a_calendar() -> None:
    holidays = {date(2026, 12, 25), date(2027, 1, 1)}

    def rest(day: date) -> bool:
        return is_weekend(day) or day in holidays

    assert add_business_days(date(2026, 12, 24), 1, rest) == date(2026, 12, 28)
    assert add_business_days(date(2026, 12, 24), 6, rest) == date(2027, 1, 5)
    with pytest.raises(ValueError):
        add_business_days(date(2026, 12, 24), 1, lambda day: True)
    with pytest.raises(ValueError):
        add_business_days(date(2026, 12, 24), -1)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)), st.integers(1, 60))
def test_a_business_deadline_is_a_weekday_and_counts_every_weekday(day: date, n: int) -> None:
    end = add_business_days(day, n)
    assert not is_weekend(end)
    between = [date.fromordinal(o) for o in range(day.toordinal() + 1, end.toordinal() + 1)]
    assert sum(not is_weekend(d) for d in between) == n


def _record() -> AccountRecord:
    given = OverdueAccountInput(
        account_id="acct-1",
        product="credit_line",
        amount_due_minor=100_000,
        currency="CNY",
        due_date=date(2026, 12, 2),
        time_zone="Asia/Shanghai",
        policy=POLICY,
    )
    return new_record(given, "episode", datetime(2026, 12, 2, 1, 15, tzinfo=UTC))


def test_the_core_blocks_sms_while_pending_and_escalates_once_at_the_deadline() -> None:
    record = _record()
    asked = datetime(2026, 12, 3, 1, 15, tzinfo=UTC)  # Thursday 09:15 in Shanghai
    request = RevocationRequested(request_id="SM" + "2" * 32)
    assert receive(record, Message(handlers.REVOCATION_REQUESTED, request), asked).changed
    assert not receive(record, Message(handlers.REVOCATION_REQUESTED, request), asked).changed
    assert record.revocation is not None and record.revocation.pending is not None
    deadline = record.revocation.pending.deadline
    assert deadline == datetime(2026, 12, 17, 1, 15, tzinfo=UTC)

    step = next_step(record, datetime(2026, 12, 3, 2, 0, tzinfo=UTC))  # d1_sms is due
    assert isinstance(step, Suppress) and step.reason == "revocation_pending"
    record.handled = [stage.id for stage in POLICY.stages]  # nothing else to wait for
    later = next_step(record, datetime(2026, 12, 16, 2, 0, tzinfo=UTC))
    assert isinstance(later, WaitUntil) and later.at == deadline  # the deadline wakes it
    assert isinstance(next_step(record, deadline), RevocationOverdue)


def test_a_decision_without_a_pending_request_is_rejected_and_changes_nothing() -> None:
    record = _record()
    before = record.model_dump()
    decision = RevocationDecision(actor="agent-1", confirm=True)
    now = datetime(2026, 12, 3, tzinfo=UTC)
    receipt = receive(record, Message(handlers.DECIDE_REVOCATION, decision), now)
    assert receipt.rejected == "there is no revocation request waiting for a decision"
    assert record.model_dump() == before


def test_the_policy_field_defaults_to_ten_and_is_bounded() -> None:
    assert POLICY.revocation.confirm_within_business_days == 10
    data = POLICY.model_dump()
    for bad in ({"confirm_within_business_days": 0}, {"within": 10}):
        with pytest.raises(ValidationError):
            Policy.model_validate({**data, "revocation": bad})
    shorter = Policy.model_validate({**data, "revocation": {"confirm_within_business_days": 3}})
    record = _record().model_copy(update={"policy": shorter})
    asked = datetime(2026, 12, 4, 1, 15, tzinfo=UTC)  # Friday 09:15 in Shanghai
    request = RevocationRequested(request_id="SM" + "3" * 32)
    receive(record, Message(handlers.REVOCATION_REQUESTED, request), asked)
    assert record.revocation is not None and record.revocation.pending is not None
    assert record.revocation.pending.deadline == datetime(2026, 12, 9, 1, 15, tzinfo=UTC)

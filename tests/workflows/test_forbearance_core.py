"""The pure side of forbearance, review deadlines and itemizations (workflows/forbearance.py,
workflows/review_deadlines.py, workflows/forbearance_types.py), through the handlers table and
the simulator the workflow shares: limits refused with their reason and nothing changed,
business-day deadlines across a weekend and a holiday, and what each kind does over time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from tests.workflows.test_overdue_account import POLICY
from workflows import handlers, review_deadlines
from workflows.acting import new_record
from workflows.calendars import Calendar
from workflows.forbearance_types import (
    Fee,
    ForbearanceDecision,
    ForbearanceKind,
    ForbearanceRequested,
    ForbearanceRules,
    Itemization,
    ReviewRules,
)
from workflows.handlers import Message, receive
from workflows.policy import Policy
from workflows.simulation import run
from workflows.types import (
    AccountRecord,
    AccountState,
    DisputeClosed,
    DisputeOpened,
    OverdueAccountInput,
    OverdueAmountReported,
    PaymentReported,
    PromiseToPay,
)

TZ = "Asia/Shanghai"
DUE = date(2026, 12, 2)  # a Wednesday
NOW = datetime(2026, 12, 2, 9, 15, tzinfo=ZoneInfo(TZ)).astimezone(UTC)
BALANCE = 150_000
ITEMS = Itemization(
    principal_minor=140_000,
    interest_minor=8_000,
    fees=(Fee(kind="late_fee", amount_minor=5_000),),
    payments_minor=3_000,
)
# 2026-12-07 (a Monday) a holiday in CN: five business days from Wednesday 2 December are
# 3, 4 (Thu, Fri), 8, 9, 10 (the weekend and the Monday skipped): Thursday 10 December.
HOLIDAY_CALENDAR = Calendar(source="none", years=(2026, 2027), rest_days=(date(2026, 12, 7),))
FORBEARING = POLICY.model_copy(
    update={
        "forbearance": ForbearanceRules(settlement_min_percent=60, holiday_max_days=30),
        "dispute_review": ReviewRules(business_days=5),
        "calendars": {"CN": HOLIDAY_CALENDAR},
    }
)


def record(policy: Policy = FORBEARING, **fields: Any) -> AccountRecord:
    input = OverdueAccountInput(
        account_id="acct-1",
        product="credit_line",
        amount_due_minor=BALANCE,
        currency="CNY",
        due_date=DUE,
        time_zone=TZ,
        jurisdiction="CN",
        policy=policy,
        **fields,
    )
    return new_record(input, "run-1", NOW)


def decide(**fields: Any) -> Message[Any]:
    return Message(handlers.DECIDE_FORBEARANCE, ForbearanceDecision(actor="agent-1", **fields))


def local(day: date, clock: time = time(12)) -> datetime:
    return datetime.combine(day, clock, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


# --- itemization --------------------------------------------------------------------------


def test_an_itemization_that_adds_up_is_kept_and_shown() -> None:
    rec = record(itemization=ITEMS)
    assert rec.itemization is not None and rec.itemization.itemization == ITEMS
    bill = OverdueAmountReported(
        bill_id="b2",
        amount_minor=10_000,
        currency="CNY",
        due_date=DUE,
        itemization=Itemization(principal_minor=9_000, interest_minor=1_000),
    )
    assert receive(rec, handlers.signal_of(bill), NOW).changed
    assert rec.itemization is not None and rec.itemization.bill_id == "b2"
    assert rec.itemization.amount_minor == 10_000


@pytest.mark.parametrize(
    ("items", "reason"),
    [
        ({"principal_minor": 100, "interest_minor": 0}, "adds up to 100"),
        ({"principal_minor": -1, "interest_minor": 0}, "greater than or equal to 0"),
        (
            {
                "principal_minor": 149_000,
                "interest_minor": 0,
                "fees": [{"kind": "late_fee", "amount_minor": 500}] * 2,
            },
            "repeated: late_fee",
        ),
        (
            {
                "principal_minor": 149_000,
                "interest_minor": 0,
                "fees": [{"kind": "Zhang San", "amount_minor": 1_000}],
            },
            "pattern",
        ),
    ],
)
def test_an_itemization_that_does_not_add_up_is_refused(items: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        record(itemization=items)


def test_a_bill_itemization_must_add_up_to_the_bill() -> None:
    with pytest.raises(ValidationError, match="amount due is 10000"):
        OverdueAmountReported(
            bill_id="b2",
            amount_minor=10_000,
            currency="CNY",
            due_date=DUE,
            itemization=Itemization(principal_minor=9_000, interest_minor=0),
        )


# --- review deadlines -----------------------------------------------------------------------


def test_a_review_deadline_counts_business_days_across_a_weekend_and_a_holiday() -> None:
    rec = record()
    deadline = review_deadlines.review_deadline(rec, NOW)
    assert deadline == local(date(2026, 12, 10), time(9, 15))
    without_holiday = record(FORBEARING.model_copy(update={"calendars": {}}))
    assert review_deadlines.review_deadline(without_holiday, NOW) == local(
        date(2026, 12, 9), time(9, 15)
    )
    assert review_deadlines.review_deadline(record(POLICY), NOW) is None  # no section: off


def _dispute_run(close_on: date | None) -> Any:
    rec = record()
    events: list[tuple[datetime, Any]] = [(NOW, DisputeOpened(dispute_id="d-1"))]
    if close_on is not None:
        events.append((local(close_on, time(9)), DisputeClosed(dispute_id="d-1")))
    return run(rec, events, NOW, local(date(2026, 12, 20)))


def test_a_dispute_not_reviewed_in_time_asks_one_supervisor_task_at_its_deadline() -> None:
    sim = _dispute_run(close_on=None)
    late = [t for t in sim.tasks if t.stage_id.startswith("review_overdue")]
    assert len(late) == 1
    assert late[0].queue == "supervisor" and late[0].at == local(date(2026, 12, 10), time(9, 15))
    assert late[0].due_at == late[0].at
    assert sim.record.state is AccountState.DISPUTED  # contact stays stopped (Reg F)
    assert sim.contacts == []
    assert review_deadlines.overdue_reviews(sim.record)[0].dispute_id == "d-1"


def test_a_dispute_closed_in_time_asks_none() -> None:
    sim = _dispute_run(close_on=date(2026, 12, 10))
    assert not [t for t in sim.tasks if t.stage_id.startswith("review_overdue")]
    assert sim.record.reviews == []


def test_without_the_policy_section_a_dispute_has_no_deadline() -> None:
    rec = record(POLICY)
    sim = run(rec, [(NOW, DisputeOpened(dispute_id="d-1"))], NOW, local(date(2026, 12, 30)))
    assert sim.tasks == [] and sim.record.reviews == []


# --- forbearance limits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {"kind": "settlement", "amount_minor": 80_000, "pay_by": DUE},
            "at least 60% of the balance (90000)",
        ),
        (
            {"kind": "settlement", "amount_minor": BALANCE, "pay_by": DUE},
            "less than the balance of 150000",
        ),
        (
            {"kind": "settlement", "amount_minor": 90_000, "pay_by": DUE + timedelta(days=31)},
            "at most 30 days ahead (by 2027-01-01)",
        ),
        (
            {"kind": "settlement", "amount_minor": 90_000, "pay_by": DUE - timedelta(days=1)},
            "in the past",
        ),
        ({"kind": "freeze", "until": DUE + timedelta(days=91)}, "at most 90 days"),
        ({"kind": "holiday", "until": DUE + timedelta(days=31)}, "at most 30 days"),
        ({"kind": "holiday", "until": DUE, "approve": False}, "request_id is required"),
        ({"kind": "holiday", "until": DUE, "request_id": "r-9"}, "no forbearance request 'r-9'"),
    ],
)
def test_a_decision_outside_the_limits_is_refused_and_changes_nothing(
    fields: dict[str, Any], reason: str
) -> None:
    rec = record()
    before = rec.model_copy(deep=True)
    receipt = receive(rec, decide(**fields), NOW)
    assert receipt.rejected is not None and reason in receipt.rejected, receipt.rejected
    assert rec == before


def test_a_policy_without_the_section_grants_nothing() -> None:
    receipt = receive(record(POLICY), decide(kind="holiday", until=DUE), NOW)
    assert receipt.rejected == "the account's policy grants no forbearance (no forbearance section)"


def test_a_holiday_is_refused_while_a_promise_is_in_force() -> None:
    rec = record()
    promise = PromiseToPay(actor="a", amount_minor=20_000, promised_date=DUE + timedelta(days=3))
    assert receive(rec, Message(handlers.PROMISE_TO_PAY, promise), NOW).rejected is None
    receipt = receive(rec, decide(kind="holiday", until=DUE + timedelta(days=3)), NOW)
    assert receipt.rejected == "a payment holiday cannot be granted while the account is promise"


def test_the_terms_must_fit_the_kind() -> None:
    with pytest.raises(ValidationError, match="needs amount_minor and pay_by"):
        ForbearanceDecision(actor="a", kind=ForbearanceKind.SETTLEMENT, amount_minor=5)
    with pytest.raises(ValidationError, match="needs until"):
        ForbearanceDecision(actor="a", kind=ForbearanceKind.HOLIDAY)
    with pytest.raises(ValidationError, match="not a freeze"):
        ForbearanceDecision(actor="a", kind=ForbearanceKind.FREEZE, until=DUE, amount_minor=5)
    # A borrower may leave the terms open.
    assert ForbearanceRequested(request_id="r-1", kind=ForbearanceKind.SETTLEMENT)


# --- over time (the simulator runs the workflow's own code) ----------------------------------


def test_a_settlement_resolves_at_the_agreed_amount_and_reports_the_write_down_once() -> None:
    rec = record()
    pay_by = DUE + timedelta(days=10)
    events: list[tuple[datetime, Any]] = [
        (NOW, decide(kind="settlement", amount_minor=100_000, pay_by=pay_by)),
        (
            local(DUE + timedelta(days=3)),
            PaymentReported(payment_id="p1", amount_minor=60_000, currency="CNY", paid_at=NOW),
        ),
        (
            local(DUE + timedelta(days=5)),
            PaymentReported(payment_id="p2", amount_minor=40_000, currency="CNY", paid_at=NOW),
        ),
    ]
    sim = run(rec, events, NOW, local(DUE + timedelta(days=40)))
    assert sim.contacts == []  # contact waits for the settlement, as for a promise
    assert [n.kind.value for _, n in sim.notices] == ["settlement_write_down"]
    assert sim.notices[0][1].amount_minor == 50_000
    assert sim.record.state is AccountState.RESOLVED
    assert sim.finished_at == local(DUE + timedelta(days=5))
    assert (
        sim.record.forbearance is not None and sim.record.forbearance.written_down_minor == 50_000
    )


def test_an_unpaid_settlement_lapses_and_the_stages_resume() -> None:
    rec = record()
    pay_by = DUE + timedelta(days=3)
    events: list[tuple[datetime, Any]] = [
        (NOW, decide(kind="settlement", amount_minor=100_000, pay_by=pay_by)),
    ]
    sim = run(rec, events, NOW, local(DUE + timedelta(days=9)))
    assert sim.notices == []
    assert "settlement lapsed: 100000 not paid by 2026-12-05" in sim.record.history
    # Lapsed at the end of 5 + 2 days' grace: the broken-promise stage acts then.
    assert [c.stage_id for c in sim.contacts][:1] == ["d7_sms"]


def test_a_holiday_pauses_contact_then_it_resumes_and_a_freeze_is_reported() -> None:
    rec = record()
    until = DUE + timedelta(days=4)
    events: list[tuple[datetime, Any]] = [
        (NOW, decide(kind="holiday", until=until)),
        (NOW, decide(kind="freeze", until=DUE + timedelta(days=60))),
    ]
    sim = run(rec, events, NOW, local(DUE + timedelta(days=8)))
    assert [n.kind.value for _, n in sim.notices] == ["interest_freeze"]
    first = sim.contacts[0]
    # d1_sms and d2_call came due in the holiday: the latest acts when it ends (no burst).
    assert first.stage_id == "d2_call" and first.at >= local(until + timedelta(days=1), time(0))
    assert sim.record.forbearance is not None and sim.record.forbearance.holiday is not None


def test_a_borrower_request_asks_one_review_task_in_the_specialist_queue() -> None:
    rec = record()
    request = ForbearanceRequested(request_id="r-1", kind=ForbearanceKind.HOLIDAY)
    sim = run(rec, [(NOW, request), (NOW, request)], NOW, NOW + timedelta(hours=1))
    assert [(t.stage_id, t.queue) for t in sim.tasks] == [("forbearance_review_1", "specialist")]
    refused = receive(
        sim.record, decide(kind="holiday", until=DUE, approve=False, request_id="r-1"), NOW
    )
    assert refused.rejected is None
    assert sim.record.forbearance is not None and sim.record.forbearance.pending == []

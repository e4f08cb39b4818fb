"""Forbearance, dispute review deadlines and itemizations on the time-skipping server.

Every scenario starts at 09:15 on a Wednesday in Asia/Shanghai (`scenario`), the due date that
day. A dispute opened then is due for review at 09:15 on the Wednesday a week later: five
business days, the weekend skipped.
"""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowUpdateFailedError

from tests.workflows.harness import Recorder, Scenario, account_of, at, payment
from tests.workflows.test_overdue_account import POLICY
from workflows.forbearance_types import (
    Fee,
    ForbearanceDecision,
    ForbearanceKind,
    ForbearanceRequested,
    ForbearanceRules,
    Itemization,
    ReviewRules,
)
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import AccountState, DisputeClosed, DisputeOpened, OverdueAmountReported

DAY = timedelta(days=1)
FORBEARING = POLICY.model_copy(
    update={
        "forbearance": ForbearanceRules(settlement_min_percent=60),
        "dispute_review": ReviewRules(business_days=5),
    }
)
ITEMS = Itemization(
    principal_minor=140_000,
    interest_minor=8_000,
    fees=(Fee(kind="late_fee", amount_minor=5_000),),
    payments_minor=3_000,
)


def _overdue_reviews(recorder: Recorder, account: str) -> list[str]:
    return [s for s in recorder.call_stages(account) if s.startswith("review_overdue")]


async def test_a_settlement_lifecycle_resolves_at_the_agreed_amount(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(FORBEARING, due, itemization=ITEMS)
    account = account_of(handle)
    # The borrower asks (the self-service page's signal, redelivered once): one review task.
    request = ForbearanceRequested(request_id="req-1", kind=ForbearanceKind.SETTLEMENT)
    await handle.signal(OverdueAccountWorkflow.request_forbearance, request)
    await handle.signal(OverdueAccountWorkflow.request_forbearance, request)
    await scenario.sleep_until(due, time(10))
    assert recorder.call_stages(account) == ["forbearance_review_1"]
    audited = [e for batch in recorder.audited for e in batch.events]
    assert [(e.kind, e.event_id) for e in audited] == [("forbearance.requested", "req-1")]
    assert recorder.calls[0][0].queue.value == "specialist"

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            OverdueAccountWorkflow.decide_forbearance,
            ForbearanceDecision(
                actor="agent-1", kind="settlement", amount_minor=10_000, pay_by=due + 5 * DAY
            ),
        )
    assert "at least 60% of the balance (90000)" in str(refused.value.cause)
    status = await handle.execute_update(
        OverdueAccountWorkflow.decide_forbearance,
        ForbearanceDecision(
            actor="agent-1",
            kind="settlement",
            amount_minor=100_000,
            pay_by=due + 10 * DAY,
            request_id="req-1",
        ),
    )
    assert status.forbearance is not None and status.forbearance.settlement is not None
    assert status.forbearance.pending == []
    assert status.itemization is not None and status.itemization.itemization == ITEMS

    await scenario.sleep_until(due + 3 * DAY)
    assert recorder.sms_stages(account) == []  # contact waits for the settlement
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p1", 60_000))
    await scenario.sleep_until(due + 4 * DAY)
    assert recorder.notice_stages(account) == []
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p2", 40_000))
    outcome = await handle.result()
    assert outcome.state is AccountState.RESOLVED and outcome.balance_minor == 0
    notices = [i for i, _ in recorder.notices if i.account_id == account]
    assert [(n.kind.value, n.write_down_minor) for n in notices] == [
        ("settlement_write_down", 50_000)
    ]
    assert recorder.sms_stages(account) == []
    await scenario.keep_history(handle, "forbearance_settlement_paid")


async def test_a_freeze_and_a_holiday_are_shown_and_the_holiday_pauses_contact(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(FORBEARING, due)
    account = account_of(handle)
    until = due + 4 * DAY  # d1_sms (day 1) and d2_call (day 2) fall in the holiday
    await handle.execute_update(
        OverdueAccountWorkflow.decide_forbearance,
        ForbearanceDecision(actor="agent-1", kind="holiday", until=until),
    )
    status = await handle.execute_update(
        OverdueAccountWorkflow.decide_forbearance,
        ForbearanceDecision(actor="agent-1", kind="freeze", until=due + 60 * DAY),
    )
    assert status.forbearance is not None
    assert status.forbearance.holiday is not None and status.forbearance.holiday.until == until
    assert status.forbearance.freeze is not None
    assert status.next_action is not None and "Payment holiday" in status.next_action.label

    await scenario.sleep_until(until, time(20))
    assert recorder.sms_stages(account) == [] and recorder.call_stages(account) == []
    notices = [i for i, _ in recorder.notices if i.account_id == account]
    assert [(n.kind.value, n.until) for n in notices] == [("interest_freeze", due + 60 * DAY)]

    await scenario.sleep_until(until + DAY, time(12))
    # The holiday over, the latest stage due acts at once (no burst of the missed ones).
    assert recorder.call_stages(account) == ["d2_call"]
    created = recorder.calls[0][1].astimezone(ZoneInfo(scenario.zone))
    assert created.date() == until + DAY
    await scenario.sleep_until(due + 8 * DAY)
    assert recorder.sms_stages(account) == ["d7_sms"]
    await handle.terminate("test over")


async def test_a_dispute_unreviewed_after_five_business_days_creates_one_supervisor_task(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(FORBEARING, due)
    account = account_of(handle)
    await handle.signal(OverdueAccountWorkflow.open_dispute, DisputeOpened(dispute_id="d-1"))
    status = await handle.query(OverdueAccountWorkflow.status)
    assert len(status.reviews) == 1
    deadline = status.reviews[0].deadline
    assert deadline.astimezone(ZoneInfo(scenario.zone)).date() == due + 7 * DAY

    await scenario.sleep_until(due + 6 * DAY, time(18))  # a Tuesday: not yet
    assert _overdue_reviews(recorder, account) == []
    await scenario.sleep_until(due + 9 * DAY)
    late = [(i, t) for i, t in recorder.calls if i.stage_id.startswith("review_overdue")]
    assert len(late) == 1
    task, created_at = late[0]
    assert task.queue.value == "supervisor" and at(created_at, deadline)
    assert task.due_at == deadline
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.state is AccountState.DISPUTED and status.reviews[0].escalated
    assert recorder.sms_stages(account) == []  # collection stays stopped (Reg F)
    await scenario.sleep_until(due + 20 * DAY)
    assert len(_overdue_reviews(recorder, account)) == 1
    await scenario.keep_history(handle, "dispute_review_overdue")
    await handle.terminate("test over")


async def test_a_dispute_closed_in_time_creates_none(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(FORBEARING, due)
    account = account_of(handle)
    await handle.signal(OverdueAccountWorkflow.open_dispute, DisputeOpened(dispute_id="d-1"))
    await scenario.sleep_until(due + 6 * DAY)
    await handle.signal(OverdueAccountWorkflow.close_dispute, DisputeClosed(dispute_id="d-1"))
    await scenario.sleep_until(due + 12 * DAY)
    assert _overdue_reviews(recorder, account) == []
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.reviews == [] and status.state is not AccountState.DISPUTED
    await handle.terminate("test over")


async def test_a_bill_itemization_is_the_latest_shown(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(FORBEARING, due, itemization=ITEMS)
    bill = OverdueAmountReported(
        bill_id="b-2",
        amount_minor=20_000,
        currency="CNY",
        due_date=due,
        itemization=Itemization(
            principal_minor=18_000,
            interest_minor=1_000,
            fees=(Fee(kind="annual_fee", amount_minor=1_000),),
        ),
    )
    await handle.signal(OverdueAccountWorkflow.report_overdue_amount, bill)
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.balance_minor == 170_000
    assert status.itemization is not None and status.itemization.bill_id == "b-2"
    assert status.itemization.itemization.fees[0].kind == "annual_fee"
    await handle.terminate("test over")

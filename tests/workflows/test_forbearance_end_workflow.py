"""Ending a payment holiday or a freeze early (`end_forbearance`) on the time-skipping server.

Every scenario starts at 09:15 on a Wednesday in Asia/Shanghai (`scenario`), the due date that
day: D+1 is a Thursday, D+2 a Friday (test_forbearance_workflow.py's policy).
"""

from __future__ import annotations

from datetime import time

import pytest
from temporalio.client import WorkflowUpdateFailedError

from tests.workflows.harness import Recorder, Scenario, account_of, at
from tests.workflows.test_forbearance_workflow import DAY, FORBEARING
from workflows.forbearance_types import (
    EndReason,
    ForbearanceDecision,
    ForbearanceEnd,
    ForbearanceKind,
)
from workflows.overdue_account import OverdueAccountWorkflow

HOLIDAY = ForbearanceEnd(
    actor="agent-2", kind=ForbearanceKind.HOLIDAY, reason=EndReason.BORROWER_ASKED
)
FREEZE = ForbearanceEnd(
    actor="agent-2", kind=ForbearanceKind.FREEZE, reason=EndReason.GRANTED_IN_ERROR
)


async def test_ending_a_holiday_resumes_contact_and_a_freeze_is_reported_ended_once(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(FORBEARING, due)
    account = account_of(handle)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(OverdueAccountWorkflow.end_forbearance, HOLIDAY)
    assert "no payment holiday is running on this account" in str(refused.value.cause)

    await handle.execute_update(
        OverdueAccountWorkflow.decide_forbearance,
        ForbearanceDecision(actor="agent-1", kind="holiday", until=due + 20 * DAY),
    )
    await handle.execute_update(
        OverdueAccountWorkflow.decide_forbearance,
        ForbearanceDecision(actor="agent-1", kind="freeze", until=due + 60 * DAY),
    )
    await scenario.sleep_until(due + 2 * DAY, time(11))  # a Friday, in calling hours
    assert recorder.sms_stages(account) == [] and recorder.call_stages(account) == []

    ended_at = await scenario.now()
    status = await handle.execute_update(OverdueAccountWorkflow.end_forbearance, HOLIDAY)
    assert status.forbearance is not None and status.forbearance.holiday is None
    assert status.forbearance.freeze is not None  # the other one runs on
    await scenario.sleep_until(due + 2 * DAY, time(12))
    # d1_sms and d2_call came due in the holiday: the latest acts at once, no burst.
    assert recorder.call_stages(account) == ["d2_call"] and recorder.sms_stages(account) == []
    assert at(recorder.calls[0][1], ended_at)
    with pytest.raises(WorkflowUpdateFailedError) as again:
        await handle.execute_update(OverdueAccountWorkflow.end_forbearance, HOLIDAY)
    assert "no payment holiday is running" in str(again.value.cause)

    status = await handle.execute_update(OverdueAccountWorkflow.end_forbearance, FREEZE)
    assert status.forbearance is not None and status.forbearance.freeze is None
    with pytest.raises(WorkflowUpdateFailedError) as twice:
        await handle.execute_update(OverdueAccountWorkflow.end_forbearance, FREEZE)
    assert "no freeze of interest and fees is running" in str(twice.value.cause)
    await scenario.sleep_until(due + 8 * DAY)
    notices = [i for i, _ in recorder.notices if i.account_id == account]
    assert [(n.kind.value, n.until) for n in notices] == [
        ("interest_freeze", due + 60 * DAY),
        ("interest_freeze_ended", due + 2 * DAY),
    ]
    assert notices[0].stage_id != notices[1].stage_id  # each its own ledger key
    assert recorder.sms_stages(account) == ["d7_sms"]  # the stages go on as the policy says
    await scenario.keep_history(handle, "forbearance_ended_early")
    await handle.terminate("test over")

"""Revocation by free text (TCPA 2024) on the time-skipping server: a reply classified as "stop
texting me" stops SMS at once; an agent confirms (a full opt-out) or rejects (SMS resume); nobody
deciding within 10 business days escalates to supervisors, SMS still stopped.

Every scenario starts at 09:15 on a Wednesday in Asia/Shanghai (`scenario`), the request comes
then, so its deadline is 09:15 on the Wednesday two weeks later: 10 business days, the two
weekends skipped (14 calendar days, not 10).
"""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowUpdateFailedError

from tests.workflows.harness import Recorder, Scenario, account_of, at, search_attribute
from tests.workflows.test_overdue_account import POLICY
from workflows import search_attributes as sa
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import (
    AccountState,
    RevocationDecision,
    RevocationRequested,
    SmsConsentChanged,
)

DAY = timedelta(days=1)
TEXT_ID = "txt-" + "a" * 32
REQUEST = RevocationRequested(request_id="SM" + "1" * 32, text_id=TEXT_ID)


async def test_a_confirmed_revocation_is_a_full_opt_out(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()  # a Wednesday
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    await handle.signal(OverdueAccountWorkflow.revocation_requested, REQUEST)
    await handle.signal(OverdueAccountWorkflow.revocation_requested, REQUEST)  # redelivered

    await scenario.sleep_until(due + 3 * DAY)
    assert recorder.sms_stages(account) == []  # d1_sms (Thursday 10:00) stopped at once
    assert recorder.call_stages(account) == ["d2_call"]  # calls go on
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.revocation is not None and status.revocation.text_id == TEXT_ID
    deadline = status.revocation.deadline.astimezone(ZoneInfo(scenario.zone))
    assert deadline.date() == due + 14 * DAY  # 10 business days: two weekends skipped
    assert time(9, 15) <= deadline.time() < time(9, 16)
    assert "d1_sms suppressed: revocation_pending" in status.notes
    assert sum("revocation requested" in n for n in status.notes) == 1

    decided = await handle.execute_update(
        OverdueAccountWorkflow.decide_revocation,
        RevocationDecision(actor="agent-1", confirm=True),
    )
    assert decided.sms_opted_out and decided.revocation is None
    await scenario.sleep_until(due + 9 * DAY)
    assert recorder.sms_stages(account) == []  # d7_sms: opted out now
    assert not (await handle.query(OverdueAccountWorkflow.status)).escalated
    await scenario.keep_history(handle, "revocation_requested_and_confirmed")
    await handle.terminate("test over")


async def test_a_rejected_revocation_resumes_sms(scenario: Scenario, recorder: Recorder) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    await handle.signal(OverdueAccountWorkflow.revocation_requested, REQUEST)
    await scenario.sleep_until(due + 2 * DAY)
    assert recorder.sms_stages(account) == []

    decided = await handle.execute_update(
        OverdueAccountWorkflow.decide_revocation,
        RevocationDecision(actor="agent-1", confirm=False, text_id=TEXT_ID),
    )
    assert not decided.sms_opted_out and decided.revocation is None
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            OverdueAccountWorkflow.decide_revocation,
            RevocationDecision(actor="agent-1", confirm=True),
        )
    assert "no revocation request" in str(refused.value.cause)

    await scenario.sleep_until(due + 8 * DAY)
    # The stage suppressed while it was pending stays so (no catch-up); the next one goes.
    assert recorder.sms_stages(account) == ["d7_sms"]
    status = await handle.query(OverdueAccountWorkflow.status)
    assert "d1_sms" in status.stages_suppressed and not status.sms_opted_out
    await handle.terminate("test over")


async def test_undecided_after_ten_business_days_it_escalates_and_sms_stay_stopped(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    await handle.signal(OverdueAccountWorkflow.revocation_requested, REQUEST)
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.revocation is not None
    deadline = status.revocation.deadline

    # Ten calendar days later (a Saturday) is not ten business days: nothing yet.
    await scenario.sleep_until(due + 13 * DAY, time(18))
    assert not (await handle.query(OverdueAccountWorkflow.status)).escalated
    assert not any(s.startswith("revocation_overdue") for s in recorder.call_stages(account))

    await scenario.sleep_until(due + 14 * DAY, time(10))
    overdue = [(i, t) for i, t in recorder.calls if i.stage_id.startswith("revocation_overdue")]
    assert len(overdue) == 1
    task, created_at = overdue[0]
    assert task.queue.value == "supervisor" and at(created_at, deadline)
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.state is AccountState.ESCALATED and status.escalated
    # What the supervisors' escalation list queries (api/console/supervisor_pages.py).
    assert await search_attribute(handle, sa.OVERDUE_STATE) == "escalated"
    assert status.revocation is not None and status.revocation.escalated
    assert recorder.sms_stages(account) == []  # d1_sms and d7_sms: still stopped

    # A supervisor decides later: the request is settled, the escalation stays.
    decided = await handle.execute_update(
        OverdueAccountWorkflow.decide_revocation,
        RevocationDecision(actor="supervisor-1", confirm=True),
    )
    assert decided.revocation is None and decided.sms_opted_out and decided.escalated
    await scenario.sleep_until(due + 20 * DAY)
    assert len([s for s in recorder.call_stages(account) if "revocation" in s]) == 1
    await handle.terminate("test over")


async def test_an_opt_out_settles_a_pending_request(scenario: Scenario, recorder: Recorder) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    await handle.signal(OverdueAccountWorkflow.revocation_requested, REQUEST)
    await handle.signal(
        OverdueAccountWorkflow.sms_consent_changed,
        SmsConsentChanged(opted_out=True, source="inbound_sms", version=7),
    )
    await scenario.sleep_until(due + 20 * DAY)
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.sms_opted_out and status.revocation is None and not status.escalated
    assert recorder.sms_stages(account_of(handle)) == []
    await handle.terminate("test over")

"""Vulnerability and stated preferences on the time-skipping server: an agent marks the
customer vulnerable and records inconvenient times, treatment changes, the mark is cleared and
treatment returns, while the inconvenient times keep holding. Fixed start: 09:15 on a
Wednesday in Asia/Shanghai (tests/workflows/conftest.py)."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from tests.workflows.harness import Recorder, Scenario, account_of, at
from workflows.customer_state import (
    ContactPreferences,
    InconvenientTime,
    VulnerabilityCategory,
    VulnerabilityChange,
)
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.policy import CallQueue, Policy

DAY = timedelta(days=1)
POLICY = Policy.model_validate(
    {
        "id": "wf-vulnerable",
        "version": 1,
        "contact_windows": {"default": {"start": "08:00", "end": "21:00"}},
        "stages": [
            {"id": "d1_sms", "offset": "1d", "channel": "sms", "template": "t", "send_at": "10:00"},
            {"id": "d2_call", "offset": "2d", "channel": "call_task", "queue": "general"},
            {"id": "d3_sms", "offset": "3d", "channel": "sms", "template": "t", "send_at": "10:00"},
            {"id": "d4_call", "offset": "4d", "channel": "call_task", "queue": "general"},
            {"id": "d30_sms", "offset": "30d", "channel": "sms", "template": "t"},
        ],
        "templates": {"t": {"en": "Hi. Reply STOP to opt out."}},
        "vulnerable": {"queue": "specialist", "refused_channels": ["sms"]},
    }
)
MORNINGS = InconvenientTime(weekdays=tuple(range(7)), start=time(8), end=time(11))
ILLNESS = VulnerabilityChange(
    actor="agent-7", vulnerable=True, category=VulnerabilityCategory.ILLNESS
)


async def test_marking_changes_treatment_clearing_restores_it_inconvenient_times_hold(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)

    status = await handle.execute_update(OverdueAccountWorkflow.set_vulnerability, ILLNESS)
    assert status.vulnerable and status.vulnerability is not None
    assert (status.vulnerability.category, status.vulnerability.actor) == ("illness", "agent-7")
    prefs = ContactPreferences(actor="agent-7", inconvenient_times=(MORNINGS,))
    status = await handle.execute_update(OverdueAccountWorkflow.set_contact_preferences, prefs)
    assert status.preferences is not None
    assert [r.label() for r in status.preferences.inconvenient_times] == [
        "Mon,Tue,Wed,Thu,Fri,Sat,Sun 08:00-11:00"
    ]

    # Vulnerable: the SMS stage is suppressed, the call goes to specialists after 11:00.
    await scenario.sleep_until(due + 2 * DAY, time(12))
    assert recorder.sms_stages(account) == []
    [(call, called_at)] = [(i, t) for i, t in recorder.calls if i.account_id == account]
    assert (call.stage_id, call.queue) == ("d2_call", CallQueue.SPECIALIST)
    assert at(called_at, scenario.local(due + 2 * DAY, time(11)))
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.stages_suppressed == ["d1_sms"]
    assert "d1_sms suppressed: vulnerable_no_sms" in status.notes

    cleared = VulnerabilityChange(actor="agent-8", vulnerable=False)
    status = await handle.execute_update(OverdueAccountWorkflow.set_vulnerability, cleared)
    assert not status.vulnerable and status.vulnerability is None

    # No longer vulnerable: SMS again, general queue; still never before 11:00.
    await scenario.sleep_until(due + 4 * DAY, time(12))
    sms = [(i.stage_id, t) for i, t in recorder.sms if i.account_id == account]
    assert [s for s, _ in sms] == ["d3_sms"]
    assert at(sms[0][1], scenario.local(due + 3 * DAY, time(11)))
    calls = [(i.stage_id, i.queue, t) for i, t in recorder.calls if i.account_id == account]
    assert [(s, q) for s, q, _ in calls] == [
        ("d2_call", CallQueue.SPECIALIST),
        ("d4_call", CallQueue.GENERAL),
    ]
    assert at(calls[1][2], scenario.local(due + 4 * DAY, time(11)))
    await scenario.keep_history(handle, "vulnerability_and_inconvenient_time")
    await handle.terminate("test over")


async def test_the_workflow_refuses_a_request_that_changes_nothing(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    cleared = VulnerabilityChange(actor="agent-8", vulnerable=False)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(OverdueAccountWorkflow.set_vulnerability, cleared)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "RequestRejected"
    assert cause.message == "the customer is not marked vulnerable"
    status = await handle.query(OverdueAccountWorkflow.status)
    assert not status.vulnerable and status.notes == []
    await handle.terminate("test over")

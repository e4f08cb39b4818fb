"""A borrower's repayment-plan request on the time-skipping server: the schedule within the
policy's limits goes to specialist review (one task, once per update id); one outside them,
or a second request, is refused with nothing changed. Fixed start (tests/workflows/conftest.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from tests.workflows.harness import Recorder, Scenario, account_of
from workflows.agent_requests import Instalment
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.policy import CallQueue, Policy
from workflows.selfservice_requests import PlanRequested, schedule

POLICY = Policy.model_validate(
    {
        "id": "wf-selfservice",
        "version": 1,
        "contact_windows": {"default": {"start": "08:00", "end": "21:00"}},
        "stages": [{"id": "d30_sms", "offset": "30d", "channel": "sms", "template": "t"}],
        "templates": {"t": {"en": "Hi. {link} Reply STOP to opt out."}},
        "hardship": {"max_instalments": 4, "max_days": 120},
    }
)


async def test_a_plan_request_goes_to_specialist_review_once(
    scenario: Scenario, recorder: Recorder
) -> None:
    today = await scenario.today()
    handle = await scenario.start(POLICY, today - timedelta(days=2), amount=100_001)
    account = account_of(handle)
    first = today + timedelta(days=7)

    too_many = PlanRequested(request_id="k1", plan=schedule(100_001, 5, first))
    too_late = PlanRequested(
        request_id="k2",
        plan=[Instalment(due_date=today + timedelta(days=200), amount_minor=100_001)],
    )
    short = PlanRequested(request_id="k3", plan=schedule(100_000, 2, first))
    for refused, reason in (
        (too_many, "at most 4"),
        (too_late, "within 120 days"),
        (short, "add up to 100000"),
    ):
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(OverdueAccountWorkflow.request_repayment_plan, refused)
        assert reason in str(err.value.cause)
    assert (await handle.query(OverdueAccountWorkflow.status)).state == "active"

    plan = PlanRequested(request_id="k4", plan=schedule(100_001, 3, first))
    assert [i.amount_minor for i in plan.plan] == [33_334, 33_334, 33_333]
    for _ in range(2):  # the same form sent twice: one update (its id), one task
        status = await handle.execute_update(
            OverdueAccountWorkflow.request_repayment_plan, plan, id="selfservice-k4"
        )
        assert status.state == "hardship_review"
    await scenario.env.sleep(timedelta(minutes=1))  # the workflow creates the task
    tasks = [i for i, _ in recorder.calls if i.account_id == account]
    assert [(t.stage_id, t.queue) for t in tasks] == [("plan_review_1", CallQueue.SPECIALIST)]
    assert "repayment plan asked by the customer: 3 instalments" in status.notes

    with pytest.raises(WorkflowUpdateFailedError) as err:
        again = PlanRequested(request_id="k5", plan=schedule(100_001, 2, first))
        await handle.execute_update(OverdueAccountWorkflow.request_repayment_plan, again)
    assert "already waiting" in str(err.value.cause)

"""A policy move on the time-skipping server: ops preview it, the workflow adopts a newer
version and makes the stage it adds (and not the one already made again); a move the workflow
refuses changes nothing. Fixed start: 09:15 on a Wednesday in Asia/Shanghai
(tests/workflows/conftest.py)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

import workflows.search_attributes as sa
from tests.workflows.harness import Recorder, Scenario, account_of, search_attribute
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.policy import Policy
from workflows.policy_change import PolicyChange
from workflows.policy_preview import PolicyPreviewRequest

DAY = timedelta(days=1)


def _policy(version: int, *stage_days: int) -> Policy:
    stages: list[dict[str, Any]] = [
        {
            "id": f"d{d}_sms",
            "offset": f"{d}d",
            "channel": "sms",
            "template": "t",
            "send_at": "10:00",
        }
        for d in stage_days
    ]
    return Policy.model_validate(
        {
            "id": "wf-move",
            "version": version,
            "contact_windows": {"default": {"start": "08:00", "end": "21:00"}},
            "stages": stages,
            "templates": {"t": {"en": "Hi. Reply STOP to opt out."}},
        }
    )


V1 = _policy(1, 1, 10)
V2 = _policy(2, 1, 3, 10)


async def test_a_previewed_move_adds_the_new_stage_and_keeps_what_was_done(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(V1, due)
    account = account_of(handle)
    await scenario.sleep_until(due + 2 * DAY, time(12))
    assert recorder.sms_stages(account) == ["d1_sms"]

    shown = await handle.query(
        OverdueAccountWorkflow.preview_policy, PolicyPreviewRequest(policy=V2)
    )
    assert shown.rejected is None
    assert [c.stage_id for c in shown.current] == ["d10_sms"]
    assert [c.stage_id for c in shown.proposed] == ["d3_sms", "d10_sms"]
    assert shown.proposed[0].at == scenario.local(due + 3 * DAY, time(10))

    change = PolicyChange(policy=V2, actor="ops:lee", change_id="move-wf-move-2")
    status = await handle.execute_update(OverdueAccountWorkflow.adopt_policy, change)
    assert "policy wf-move v1 -> wf-move v2 by ops:lee" in status.notes
    status = await handle.query(OverdueAccountWorkflow.status)  # once the loop has decided
    assert (status.policy_id, status.policy_version) == ("wf-move", 2)
    assert status.next_action is not None and status.next_action.stage_id == "d3_sms"
    assert await search_attribute(handle, sa.POLICY_ID) == "wf-move@2"

    await scenario.sleep_until(due + 11 * DAY, time(12))
    assert recorder.sms_stages(account) == ["d1_sms", "d3_sms", "d10_sms"]
    await scenario.keep_history(handle, "policy_move")
    await handle.terminate("test over")


async def test_a_refused_move_changes_nothing(scenario: Scenario, recorder: Recorder) -> None:
    due = await scenario.today()
    handle = await scenario.start(V2, due)
    change = PolicyChange(policy=V1, actor="ops:lee", change_id="move-back")
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(OverdueAccountWorkflow.adopt_policy, change)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "RequestRejected"
    assert cause.message == "wf-move v1 is older than wf-move v2, the account's"
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.notes == []
    await scenario.sleep_until(due + 4 * DAY, time(12))
    assert recorder.sms_stages(account_of(handle)) == ["d1_sms", "d3_sms"]
    await handle.terminate("test over")

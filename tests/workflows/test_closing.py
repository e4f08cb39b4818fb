"""Release closing-2026-12 (issue 19, workflows/closing.py): when a payment finishes an account
that has call tasks, the payment's audit and the cancellation of the open call tasks are one
activity, scheduled in the workflow task that applied the payment; processes started before the
release keep the audit in the chores and the cancel after it, as their histories say. From
release local-close-2026-12 that activity is a local one, run inside that workflow task, which
also ends the process."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import time, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from bench.billing import LOCAL_ACTIVITY_MARKER
from tests.workflows.harness import Recorder, Scenario, account_of, payment
from tests.workflows.test_overdue_account import POLICY
from tests.workflows.test_transition_attributes import activities
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.patches import CLOSING_2026_12, COST_2026_12, LOCAL_CLOSE_2026_12

MARKER = EventType.EVENT_TYPE_MARKER_RECORDED
SIGNALED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
TASK_COMPLETED = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED

DAY = timedelta(days=1)


def local_activities(events: Iterable[HistoryEvent]) -> list[str]:
    """The activity type of each local activity's marker (its `data` detail, JSON)."""
    found = []
    for e in events:
        attrs = e.marker_recorded_event_attributes
        if e.event_type == MARKER and attrs.marker_name == LOCAL_ACTIVITY_MARKER:
            [data] = attrs.details["data"].payloads
            found.append(json.loads(data.data)["activity_type"])
    return found


def workflow_tasks_after_signal(events: Iterable[HistoryEvent]) -> int:
    """Workflow tasks completed after the last signal: 1 when the process ended in the task
    that took it."""
    listed = list(events)
    signalled = max(i for i, e in enumerate(listed) if e.event_type == SIGNALED)
    return sum(1 for e in listed[signalled:] if e.event_type == TASK_COMPLETED)


@pytest.mark.parametrize(
    "release",
    [COST_2026_12, CLOSING_2026_12, LOCAL_CLOSE_2026_12],
    ids=["release=cost", "release=closing", "release=local-close"],
)
async def test_a_payment_in_full_after_a_call_task_ends_the_process_in_one_activity(
    scenario: Scenario, recorder: Recorder, release: int
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due, release=release)
    account = account_of(handle)
    await scenario.sleep_until(due + 2 * DAY, time(12))  # after the D+2 call task
    assert recorder.call_stages(account) == ["d2_call"]

    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-all", 150_000))
    assert (await handle.result()).state.value == "resolved"

    history = await handle.fetch_history()
    after_the_call = activities(history.events)[
        activities(history.events).index("create_call_task") + 1 :
    ]
    # The payment audited and the call task cancelled once each, whichever way.
    [audit] = [a for a in recorder.audited if a.account_id == account]
    assert [e.event_id for e in audit.events] == ["p-all"]
    assert [c.reason for c, _ in recorder.cancels if c.account_id == account] == [
        "account resolved"
    ]
    tasks_after_the_payment = workflow_tasks_after_signal(history.events)
    if release == COST_2026_12:
        assert after_the_call == ["record_received_events", "cancel_open_call_tasks"]
        assert recorder.closes == []
    elif release == LOCAL_CLOSE_2026_12:
        # Nothing scheduled: the close ran inside the workflow task that applied the payment,
        # and the process ended in that same task.
        assert after_the_call == []
        assert local_activities(history.events) == ["close_process"]
        assert tasks_after_the_payment == 1
        [close] = recorder.closes
        assert close.cancel_reason == "account resolved"
        assert [e.event_id for e in close.events] == ["p-all"]
        await scenario.keep_history(handle, "local_close_release_payment_after_call_task")
    else:
        assert tasks_after_the_payment == 2
        assert after_the_call == ["close_process"]
        [close] = recorder.closes
        assert close.cancel_reason == "account resolved"
        assert [e.event_id for e in close.events] == ["p-all"]
        await scenario.keep_history(handle, "closing_release_payment_after_call_task")


async def test_a_payment_that_does_not_finish_the_account_is_audited_at_once(
    scenario: Scenario, recorder: Recorder
) -> None:
    """Only a finished account leaves its audit to the close: a partial payment is audited by
    the chores as before, the process going on."""
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    await scenario.sleep_until(due + DAY, time(18))
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-part", 30_000))
    await scenario.sleep_until(due + DAY, time(19))
    assert [e.event_id for a in recorder.audited for e in a.events] == ["p-part"]
    assert recorder.closes == []
    await handle.terminate("test over")

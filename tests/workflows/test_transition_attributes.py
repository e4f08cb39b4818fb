"""Release cost-2026-12 (issue 19): search attributes on transitions only, the next action in
the current details, one timer per next-action time, and no patch id asked by a process started
on the release. Processes from before it (release 0) keep every command they were recorded with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import time, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.sdk.v1 import WorkflowMetadata

from tests.workflows.harness import Handle, Recorder, Scenario, account_of, payment
from tests.workflows.test_overdue_account import POLICY
from workflows import search_attributes as sa
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.patches import CLOSING_2026_12, COST_2026_12
from workflows.publishing import due_instant

DAY = timedelta(days=1)
TIMER_STARTED = EventType.EVENT_TYPE_TIMER_STARTED
SIGNALED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
UPSERTED = EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
MARKER = EventType.EVENT_TYPE_MARKER_RECORDED
SCHEDULED = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED


async def upserts(handle: Handle) -> list[dict[str, object]]:
    """Each upsert's attributes, decoded, in history order."""
    history = await handle.fetch_history()
    found = []
    for e in history.events:
        if e.event_type == UPSERTED:
            fields = e.upsert_workflow_search_attributes_event_attributes.search_attributes
            found.append({k: json.loads(p.data) for k, p in fields.indexed_fields.items()})
    return found


def activities(events: Iterable[HistoryEvent]) -> list[str]:
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.event_type == SCHEDULED
    ]


async def current_details(handle: Handle) -> str:
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return metadata.current_details


@pytest.mark.parametrize(
    "release", [COST_2026_12, CLOSING_2026_12], ids=["release=cost", "release=closing"]
)
async def test_attributes_change_on_transitions_and_the_next_action_is_in_the_details(
    scenario: Scenario, recorder: Recorder, release: int
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due, release=release)
    await scenario.sleep_until(due + DAY, time(18))

    attrs = (await handle.describe()).typed_search_attributes
    assert attrs.get(sa.OVERDUE_STATE) == "active"
    assert attrs.get(sa.OVERDUE_STAGE) == "d1_sms"
    assert attrs.get(sa.PRODUCT) == "credit_line"
    assert attrs.get(sa.AMOUNT_DUE_MINOR) == 150_000
    # Set once with the start request, in the customer's time zone; never upserted.
    assert attrs.get(sa.DUE_DATE) == due_instant(due, scenario.zone)
    assert attrs.get(sa.DAYS_PAST_DUE) is None and attrs.get(sa.NEXT_ACTION_AT) is None
    next_at = scenario.local(due + 2 * DAY, time(9))
    assert await current_details(handle) == (
        f"Next action: D+2 call_task (d2_call) at {next_at.isoformat()}"
    )

    # One upsert per stage acted on: what the start set is not sent again, nor any time.
    assert await upserts(handle) == [{sa.OVERDUE_STAGE.name: "d1_sms"}]
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-all", 150_000))
    assert (await handle.result()).state.value == "resolved"
    assert (await upserts(handle))[1:] == [
        {sa.OVERDUE_STATE.name: "resolved", sa.AMOUNT_DUE_MINOR.name: 0}
    ]
    assert await current_details(handle) == ""
    history = await handle.fetch_history()
    assert not [e for e in history.events if e.event_type == MARKER]  # no patch id asked
    # Resolved before its first call task: nothing to cancel at the end, only the payment to
    # audit (closing-2026-12: in the closing activity, one round trip after the payment).
    closing = "record_received_events" if release == COST_2026_12 else "close_process"
    assert activities(history.events) == ["send_sms", closing]
    assert recorder.cancels == []
    name = "cost" if release == COST_2026_12 else "closing"
    await scenario.keep_history(handle, f"{name}_release_attributes_on_transitions")


def timers_between_signal_and_call(events: list[HistoryEvent]) -> int:
    """Timers started after the payment's signal until the d2 call task is scheduled."""
    signal = next(i for i, e in enumerate(events) if e.event_type == SIGNALED)
    started = 0
    for e in events[signal:]:
        scheduled = e.activity_task_scheduled_event_attributes.activity_type.name
        if e.event_type == SCHEDULED and scheduled == "create_call_task":
            break
        started += e.event_type == TIMER_STARTED
    return started


@pytest.mark.parametrize("release", [0, COST_2026_12], ids=["release=0", "release=cost-2026-12"])
async def test_an_event_that_leaves_the_next_action_time_keeps_its_timer(
    scenario: Scenario, recorder: Recorder, release: int
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due, release=release)
    account = account_of(handle)
    await scenario.sleep_until(due + DAY, time(18))  # waiting for d2_call at 09:00
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-part", 30_000))
    await scenario.sleep_until(due + 2 * DAY, time(10))

    assert recorder.call_stages(account) == ["d2_call"]
    [(_, called_at)] = [(i, t) for i, t in recorder.calls if i.account_id == account]
    assert called_at >= scenario.local(due + 2 * DAY, time(9))
    events = list((await handle.fetch_history()).events)
    # Before the release the woken wait started a new timer for the same 09:00 (billed);
    # on it, the running timer is kept.
    assert timers_between_signal_and_call(events) == (1 if release == 0 else 0)
    if release == COST_2026_12:
        await scenario.keep_history(handle, "cost_release_partial_payment_keeps_timer")
    await handle.terminate("test over")

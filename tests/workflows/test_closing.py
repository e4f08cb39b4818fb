"""Release closing-2026-12 (issue 19, workflows/closing.py): when a payment finishes an account
that has call tasks, the payment's audit and the cancellation of the open call tasks are one
activity, scheduled in the workflow task that applied the payment; processes started before the
release keep the audit in the chores and the cancel after it, as their histories say."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from tests.workflows.harness import Recorder, Scenario, account_of, payment
from tests.workflows.test_overdue_account import POLICY
from tests.workflows.test_transition_attributes import activities
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.patches import CLOSING_2026_12, COST_2026_12

DAY = timedelta(days=1)


@pytest.mark.parametrize(
    "release", [COST_2026_12, CLOSING_2026_12], ids=["release=cost", "release=closing"]
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
    if release == COST_2026_12:
        assert after_the_call == ["record_received_events", "cancel_open_call_tasks"]
        assert recorder.closes == []
    else:
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

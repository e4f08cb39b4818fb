"""An unexpected error parks the account (workflows/parking.py) instead of failing its workflow
task for ever: visible in the status, the `OverdueState` search attribute and the current
details, and resumed by ops or by the next event. On the time-skipping server."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import pytest

from tests.workflows.harness import (
    Handle,
    Recorder,
    Scenario,
    account_of,
    payment,
    search_attribute,
)
from tests.workflows.task_failures import failed_workflow_tasks
from tests.workflows.test_overdue_account import POLICY
from workflows import decisions
from workflows import search_attributes as sa
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import (
    AccountRecord,
    AccountState,
    AccountStatus,
    OverdueAmountReported,
    ResumeRequest,
)

DAY = timedelta(days=1)
OPS = ResumeRequest(actor="ops-1", reason="fixed")


async def _status(handle: Handle) -> AccountStatus:
    return await handle.query(OverdueAccountWorkflow.status)


async def _details(handle: Handle) -> str:
    metadata = await handle.query("__temporal_workflow_metadata")
    return str(getattr(metadata, "current_details", ""))


def _explode_until_resumed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make `next_step` (the decision code) raise, as a bug would, until ops have resumed the
    account. It depends on the record alone, not on a call count, so a replay after a cache
    eviction (which the time-skipping server causes when it skips past a sticky queue's
    timeout) takes the same path as the first run. The message holds text that must never
    reach the reason code."""
    real, raised = decisions.next_step, []

    def next_step(record: AccountRecord, *args: Any) -> Any:
        if not any("parked process resumed by" in note for note in record.history):
            raised.append(1)
            raise RuntimeError("secret customer text")
        return real(record, *args)

    monkeypatch.setattr(decisions, "next_step", next_step)
    return raised


async def test_an_unexpected_error_parks_the_account_until_ops_resume_it(
    scenario: Scenario, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    raised = _explode_until_resumed(monkeypatch)
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    await scenario.sleep_until(due + 3 * DAY)

    status = await _status(handle)
    assert status.state is AccountState.PARKED and status.parked is not None
    assert status.parked.reason.startswith("RuntimeError in ")
    assert "secret" not in status.parked.reason
    assert status.next_action is None
    assert await search_attribute(handle, sa.OVERDUE_STATE) == "parked"
    assert recorder.contacts_after(account, status.parked.since - DAY) == []  # nothing sent
    assert await failed_workflow_tasks(handle) == []  # parked, not retried
    assert raised  # it parked on the decision code's error, not on something else

    await handle.signal(OverdueAccountWorkflow.resume_by_ops, OPS)
    await scenario.sleep_until(due + 4 * DAY)
    status = await _status(handle)
    assert status.state is AccountState.ACTIVE and status.parked is None
    assert "parked process resumed by ops-1" in status.notes
    assert await search_attribute(handle, sa.OVERDUE_STATE) == "active"
    # Resumed like a late start: the stage due now acts, the one it missed is skipped.
    assert recorder.call_stages(account) == ["d2_call"]
    assert recorder.sms_stages(account) == [] and "d1_sms" in status.stages_skipped


async def test_a_signal_handler_error_parks_and_ops_resume_it(
    scenario: Scenario, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = AccountRecord.note

    def note(record: AccountRecord, text: str) -> None:
        # On the record alone, so a replay after a cache eviction takes the same path.
        resumed = any("parked process resumed by" in n for n in record.history)
        if text == "new bill B-bad" and not resumed:
            raise KeyError("secret")
        real(record, text)

    monkeypatch.setattr(AccountRecord, "note", note)  # a class the sandbox passes through
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    await scenario.sleep_until(due + 1 * DAY, clock=time(7))
    bill = OverdueAmountReported(bill_id="B-bad", amount_minor=5_000, currency="CNY", due_date=due)
    await handle.signal(OverdueAccountWorkflow.report_overdue_amount, bill)
    await scenario.sleep_until(due + 2 * DAY)

    status = await _status(handle)
    assert status.state is AccountState.PARKED and status.parked is not None
    assert status.parked.reason == "KeyError in test_parking.note"
    assert await failed_workflow_tasks(handle) == []
    assert recorder.call_stages(account_of(handle)) == []  # D+2's call task not created

    await handle.signal(OverdueAccountWorkflow.resume_by_ops, OPS)
    await scenario.sleep_until(due + 3 * DAY)
    status = await _status(handle)
    assert status.state is AccountState.ACTIVE
    assert recorder.call_stages(account_of(handle)) == ["d2_call"]
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("P-1", status.balance_minor))
    assert (await handle.result()).state is AccountState.RESOLVED


async def test_a_total_beyond_int64_parks_until_a_payment_brings_it_back(
    scenario: Scenario, recorder: Recorder
) -> None:
    """Issue 13: two bills of 2^63 - 1 wedged the workflow on `AmountDueMinor`, and a later
    payment was accepted and never applied. Now the account parks, and the payment resumes it."""
    due = await scenario.today()
    huge = 2**63 - 1
    handle = await scenario.start(POLICY, due, amount=huge)
    bill = OverdueAmountReported(bill_id="B-2", amount_minor=huge, currency="CNY", due_date=due)
    await handle.signal(OverdueAccountWorkflow.report_overdue_amount, bill)
    await scenario.sleep_until(due + 1 * DAY, clock=time(7))
    status = await _status(handle)
    assert status.state is AccountState.PARKED and status.parked is not None
    assert status.parked.reason == "OverflowError in publishing.upsert"
    assert await failed_workflow_tasks(handle) == []

    await handle.signal(OverdueAccountWorkflow.report_payment, payment("P-1", 2 * huge - 100_000))
    await scenario.sleep_until(due + 2 * DAY)
    status = await _status(handle)
    assert status.state is AccountState.ACTIVE and status.balance_minor == 100_000
    assert await search_attribute(handle, sa.AMOUNT_DUE_MINOR) == 100_000
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("P-2", 100_000))
    assert (await handle.result()).state is AccountState.RESOLVED
    # Data, not a test double, parked it: its history replays (tests/workflows/test_replay.py).
    await scenario.keep_history(handle, "parked_on_a_total_beyond_int64")


async def test_a_due_date_at_the_calendars_end_parks_and_still_answers_its_status(
    scenario: Scenario, recorder: Recorder
) -> None:
    """The API refuses such dates now; a process started before that parks, and its status
    (which computes days past due) still answers."""
    handle = await scenario.start(POLICY, date(9999, 12, 31))
    status = await _status(handle)
    for _ in range(50):
        if status.state is AccountState.PARKED:
            break
        status = await _status(handle)
    assert status.state is AccountState.PARKED and status.parked is not None
    assert status.parked.reason.startswith("OverflowError in ")
    assert status.days_past_due == 0
    assert "PARKED" in await _details(handle)
    assert await failed_workflow_tasks(handle) == []

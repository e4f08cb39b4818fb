"""Events new to the workflow go to the audit activity, once each, without free text.

The activity itself (recording only what the API did not) is tested on the real stack in
tests/integration/test_privacy.py; here its stand-in records what the workflow asked.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.workflows.harness import Handle, Recorder, Scenario, account_of, payment
from tests.workflows.test_overdue_account import POLICY
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.patches import AUDIT_RECEIVED_EVENTS, COST_2026_12
from workflows.types import DisputeOpened, PaymentReported

DAY = timedelta(days=1)


async def _markers(handle: Handle) -> int:
    """AUDIT_RECEIVED_EVENTS's patch markers in the history."""
    history = await handle.fetch_history()
    return sum(
        1
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
        and AUDIT_RECEIVED_EVENTS.encode()
        in b"".join(
            p.data for v in e.marker_recorded_event_attributes.details.values() for p in v.payloads
        )
    )


@pytest.mark.parametrize("release", [0, COST_2026_12], ids=["release=0", "release=cost-2026-12"])
async def test_each_event_new_to_the_workflow_is_handed_to_the_audit_once(
    scenario: Scenario, recorder: Recorder, release: int
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due, release=release)
    account = account_of(handle)
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-1", 30_000))
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-1", 30_000))  # replayed
    other_currency = payment("p-2", 10_000).model_copy(update={"currency": "USD"})
    await handle.signal(OverdueAccountWorkflow.report_payment, other_currency)  # not applied
    # An old-style message with its text in it: the audit's input leaves the text out.
    await handle.signal(
        OverdueAccountWorkflow.open_dispute, DisputeOpened(dispute_id="d-1", reason="Typed Text")
    )
    await scenario.sleep_until(due + DAY)

    handed = [(e.kind, e.event_id) for i in recorder.audited for e in i.events]
    assert handed == [("payment.reported", "p-1"), ("dispute.opened", "d-1")]
    assert {i.account_id for i in recorder.audited} == {account}
    first = next(e for i in recorder.audited for e in i.events)
    assert PaymentReported.model_validate(first.details).amount_minor == 30_000
    # A process from before cost-2026-12 asked once it had events; one started on it takes
    # the id as given: no marker, no billed TemporalChangeVersion upsert.
    assert await _markers(handle) == (1 if release == 0 else 0)
    audit_inputs = [str(e.details) for i in recorder.audited for e in i.events]
    assert not any("Typed Text" in d for d in audit_inputs)
    if release == 0:
        await scenario.keep_history(handle, "events_audited")  # replays the patched branch
    await handle.terminate("test over")


async def test_a_workflow_that_receives_no_event_never_asks(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    await scenario.sleep_until(due + 3 * DAY)
    assert recorder.audited == []
    assert await _markers(handle) == 0  # so no billed TemporalChangeVersion upsert either
    await handle.terminate("test over")


async def test_an_event_received_during_the_audit_is_audited_before_the_process_waits(
    scenario: Scenario, recorder: Recorder
) -> None:
    """A disputed account waits for events only: an event that arrived while the chores ran
    is handed to the audit in the same pass, not at a wake that may be days away."""
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    recorder.dispute_during_audit = DisputeOpened(dispute_id="d-9")
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-1", 30_000))
    await scenario.sleep_until(due + DAY)

    handed = [[(e.kind, e.event_id) for e in i.events] for i in recorder.audited]
    assert handed == [[("payment.reported", "p-1")], [("dispute.opened", "d-9")]]
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.open_disputes == ["d-9"]
    await scenario.keep_history(handle, "events_audited_during_chores")
    await handle.terminate("test over")

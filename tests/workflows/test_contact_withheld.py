"""A contact withheld by the pre-send check for a cease-contact request or a dispute the
decision did not know of (workflows/contact_withheld.py): nothing reaches the customer, the
workflow decides again once it has the event, and the stage stays checked."""

from __future__ import annotations

from datetime import timedelta

from tests.workflows.harness import Recorder, Scenario, account_of
from tests.workflows.test_overdue_account import POLICY
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import ContactCeased, DisputeClosed, DisputeOpened

DAY = timedelta(days=1)


async def test_an_sms_withheld_for_a_cease_in_flight_is_not_sent_again(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    recorder.event_during["d1_sms"] = ContactCeased(request_id="c-1")

    await scenario.sleep_until(due + 3 * DAY)

    [sms] = [i for i, _ in recorder.sms if i.account_id == account]
    assert sms.basis is not None and sms.basis.ceased_known is False  # decided before it
    assert recorder.withheld == [sms.idempotency_key]
    assert recorder.call_stages(account) == []  # the policy stops calls after a cease too
    notes = (await handle.query(OverdueAccountWorkflow.status)).notes
    assert "d1_sms: contact withheld, contact_ceased reported after the decision" in notes
    assert not [n for n in notes if "never arrived" in n]
    await scenario.keep_history(handle, "sms_withheld_for_a_cease_in_flight")
    await handle.terminate("test over")


async def test_an_sms_withheld_for_a_dispute_goes_checked_once_it_is_closed(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    recorder.event_during["d1_sms"] = DisputeOpened(dispute_id="d-1")

    await scenario.sleep_until(due + DAY + timedelta(hours=12))
    assert recorder.sms_stages(account) == ["d1_sms"]  # withheld, then disputed: waits
    await handle.signal(OverdueAccountWorkflow.close_dispute, DisputeClosed(dispute_id="d-1"))
    await scenario.sleep_until(due + 2 * DAY + timedelta(hours=12))

    first, second = [i for i, _ in recorder.sms if i.account_id == account][:2]
    assert recorder.withheld == [first.idempotency_key]
    assert first.basis is not None and first.basis.disputes_known == []
    # Not marked unchecked, as a never-arriving payment would make it: checked again.
    assert second.stage_id == "d1_sms"
    assert second.basis is not None and second.basis.disputes_known == []
    await handle.terminate("test over")

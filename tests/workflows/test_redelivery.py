"""Redelivered messages change nothing twice (issue 13): SMS consent changes carry the stored
consent's version, so a stale one (a STOP redelivered after a START) is ignored, in the pure
core and in a running workflow; and the bill a process started with is recognized when the
relay signals it again."""

from __future__ import annotations

from datetime import timedelta

from tests.workflows.harness import Recorder, Scenario, account_of
from tests.workflows.records import make_record
from tests.workflows.test_overdue_account import POLICY
from workflows.account import apply_sms_consent
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import OverdueAmountReported, SmsConsentChanged

DAY = timedelta(days=1)


def change(opted_out: bool, version: int | None) -> SmsConsentChanged:
    return SmsConsentChanged(opted_out=opted_out, source="inbound_sms", version=version)


async def test_a_redelivered_stop_after_start_leaves_the_workflow_opted_in(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    for opted_out, version in [(True, 7), (False, 9), (True, 7)]:
        await handle.signal(OverdueAccountWorkflow.sms_consent_changed, change(opted_out, version))
    await scenario.sleep_until(due + DAY)
    status = await handle.query(OverdueAccountWorkflow.status)
    assert not status.sms_opted_out
    assert recorder.sms_stages(account_of(handle)) == ["d1_sms"]
    await handle.terminate("test over")


def test_versions_order_consent_changes_and_unversioned_ones_apply_as_before() -> None:
    record = make_record(POLICY)
    assert apply_sms_consent(record, change(True, 3))
    assert not apply_sms_consent(record, change(False, 2))  # older: ignored
    assert record.sms_opted_out
    assert not apply_sms_consent(record, change(True, 3))  # the same again
    assert apply_sms_consent(record, change(False, 4))
    assert not record.sms_opted_out
    # A sender from before versions (and every recorded history) applies as it comes.
    assert apply_sms_consent(record, change(True, None))
    assert record.sms_opted_out
    assert record.sms_consent_version == 4


async def test_the_bill_a_process_started_with_is_not_added_again_when_signalled(
    scenario: Scenario, recorder: Recorder
) -> None:
    """A start whose answer was lost (Temporal slow after an outage) is delivered again by the
    relay as a signal of the same bill: the balance counts it once."""
    due = await scenario.today()
    handle = await scenario.start(POLICY, due, bill_id="B-1")
    for bill_id in ("B-1", "B-2"):
        await handle.signal(
            OverdueAccountWorkflow.report_overdue_amount,
            OverdueAmountReported(
                bill_id=bill_id, amount_minor=20_000, currency="CNY", due_date=due
            ),
        )
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.balance_minor == 150_000 + 20_000
    await handle.terminate("test over")

"""A contact withheld for a payment the workflow never receives (workflows/contact_attempt.py).

The other paths of an attempt (made, refused, withheld and decided again, given up on
resolution) are exercised by the lifecycle tests in test_overdue_account.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from tests.workflows.harness import Recorder, Scenario, account_of, at
from tests.workflows.records import make_record
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.policy import Policy
from workflows.types import AccountRecord, PaymentReported, SmsConsentChanged

DAY = timedelta(days=1)

# One SMS a minute before the contact window closes: a withheld attempt's wait for its payment
# (a minute) ends outside the window, so the next attempt waits for the morning.
POLICY = Policy.model_validate(
    {
        "id": "attempt-test",
        "version": 1,
        "contact_windows": {"default": {"start": "08:00", "end": "21:00"}},
        "stages": [
            {"id": "d1_sms", "offset": "1d", "channel": "sms", "template": "t", "send_at": "20:59"}
        ],
        "templates": {"t": {"en": "Hi {name}. Reply STOP to opt out."}},
    }
)


async def test_a_contact_withheld_for_a_payment_that_never_arrives_goes_unchecked_across_runs(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due, history_event_bound=100)
    account = account_of(handle)
    # A payment in another currency: the activity's check sees it, the workflow never applies it.
    recorder.pay_during["d1_sms"] = PaymentReported(
        payment_id="p-usd", amount_minor=100, currency="USD", paid_at=datetime.now(UTC)
    )
    # Events that change nothing: the history passes its bound without waking the workflow,
    # so it continues as new at its next wait, the one for the morning after the withheld SMS.
    for _ in range(50):
        await handle.signal(
            OverdueAccountWorkflow.sms_consent_changed,
            SmsConsentChanged(opted_out=False, source="backend"),
        )

    await scenario.sleep_until(due + 2 * DAY, time(9))

    (first, _), (second, sent_at) = [(i, t) for i, t in recorder.sms if i.account_id == account]
    assert recorder.withheld == [first.idempotency_key]
    assert at(sent_at, scenario.local(due + 2 * DAY, time(8)))  # the window's next opening
    first_run = scenario.env.client.get_workflow_handle(
        handle.id, run_id=handle.first_execution_run_id
    )
    last_event = (await first_run.fetch_history()).events[-1]
    assert last_event.HasField("workflow_execution_continued_as_new_event_attributes")
    latest = scenario.env.client.get_workflow_handle(handle.id)
    # The run that sent it again knew, from the record it was carried, not to check again.
    assert second.idempotency_key.endswith("/2") and second.basis is None
    status = await latest.query(OverdueAccountWorkflow.status)
    assert "d1_sms: the withheld-for payment never arrived; sending anyway" in status.notes
    assert status.stages_done == ["d1_sms"]
    await latest.terminate("test over")


def test_a_record_carried_from_before_unchecked_stages_existed_decodes() -> None:
    carried = make_record(POLICY).model_dump(mode="json")
    del carried["unchecked_stages"]

    assert AccountRecord.model_validate(carried).unchecked_stages == []

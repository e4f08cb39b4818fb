"""Consent on the time-skipping server: a policy that requires consent for a channel uses it only
while the account holds a grant (workflows/consent_rules.py); a grant or a withdrawal arrives
by the `consent_changed` signal; a withdrawal during an attempt withholds it (the pre-send
check, stood in for by the recorder) and the stage is decided again, without the channel."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.workflows.harness import Recorder, Scenario, account_of
from workflows.consent import ConsentChanged, ConsentChannel, ConsentGiven, ConsentSource
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.policy import Policy

DAY = timedelta(days=1)

POLICY = Policy.model_validate(
    {
        "id": "consent-test",
        "version": 1,
        "contact_windows": {"default": {"start": "08:00", "end": "21:00"}},
        "consent_required": ["sms", "call"],
        "stages": [
            {"id": "d1_sms", "offset": "1d", "channel": "sms", "template": "t", "send_at": "10:00"},
            {
                "id": "d2_call",
                "offset": "2d",
                "channel": "call_task",
                "queue": "general",
                "send_at": "09:00",
            },
            {"id": "d7_sms", "offset": "7d", "channel": "sms", "template": "t", "send_at": "10:00"},
        ],
        "templates": {"t": {"en": "Hi {name}. Reply STOP to opt out."}},
    }
)


def given(channel: ConsentChannel, at: datetime) -> ConsentGiven:
    return ConsentGiven(channel=channel, source=ConsentSource.CONTRACT, given_at=at)


def change(channel: ConsentChannel, granted: bool, at: datetime) -> ConsentChanged:
    return ConsentChanged(
        channel=channel,
        granted=granted,
        source=ConsentSource.APP_SETTINGS,
        at=at,
        actor="backend-test",
    )


async def test_no_sms_without_consent_but_calls_where_consented(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    signed = await scenario.now() - 30 * DAY
    handle = await scenario.start(POLICY, due, consents=[given(ConsentChannel.CALL, signed)])
    account = account_of(handle)

    await scenario.sleep_until(due + 3 * DAY)

    assert recorder.sms_stages(account) == []
    assert recorder.call_stages(account) == ["d2_call"]
    status = await handle.query(OverdueAccountWorkflow.status)
    assert "d1_sms" in status.stages_suppressed
    assert "d1_sms suppressed: no_consent: sms" in status.notes
    assert status.consent_required == ["sms", "call"]
    assert status.consents["call"].granted and "sms" not in status.consents
    [(call, _)] = [(i, t) for i, t in recorder.calls if i.account_id == account]
    assert call.basis is not None and call.basis.consent_channel == "call"
    assert call.facts is not None and call.facts.consent is not None
    assert (call.facts.consent.source, call.facts.consent.given_at) == ("contract", signed)
    await handle.terminate("test over")


async def test_a_grant_by_signal_opens_the_channel_and_an_older_change_is_ignored(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    await scenario.sleep_until(due + 3 * DAY)
    assert recorder.sms_stages(account) == [] and recorder.call_stages(account) == []

    now = await scenario.now()
    await handle.signal(
        OverdueAccountWorkflow.consent_changed, change(ConsentChannel.SMS, True, now)
    )
    # Redelivered late: a withdrawal older than the grant the workflow holds changes nothing.
    await handle.signal(
        OverdueAccountWorkflow.consent_changed, change(ConsentChannel.SMS, False, now - DAY)
    )
    await scenario.sleep_until(due + 8 * DAY)

    assert recorder.sms_stages(account) == ["d7_sms"]
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.consents["sms"].granted and status.consents["sms"].source == "app_settings"
    assert "consent granted: sms (app_settings)" in status.notes
    await handle.terminate("test over")


async def test_a_withdrawal_during_the_attempt_withholds_it_and_the_stage_goes_without(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    signed = await scenario.now() - 30 * DAY
    handle = await scenario.start(
        POLICY,
        due,
        consents=[given(ConsentChannel.SMS, signed), given(ConsentChannel.CALL, signed)],
    )
    account = account_of(handle)
    recorder.event_during["d1_sms"] = change(ConsentChannel.SMS, False, signed + DAY)

    await scenario.sleep_until(due + 3 * DAY)

    [sms] = [i for i, _ in recorder.sms if i.account_id == account]  # tried once, withheld
    assert sms.basis is not None and sms.basis.consent_channel == "sms"
    assert recorder.withheld == [sms.idempotency_key]
    assert recorder.call_stages(account) == ["d2_call"]  # calls keep their consent
    status = await handle.query(OverdueAccountWorkflow.status)
    assert "d1_sms: contact withheld, consent_withdrawn reported after the decision" in (
        status.notes
    )
    assert "d1_sms suppressed: no_consent: sms" in status.notes
    assert not status.consents["sms"].granted
    await scenario.keep_history(handle, "consent_withdrawn_in_flight")
    await handle.terminate("test over")

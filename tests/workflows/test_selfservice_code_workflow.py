"""The one-time code's update on the time-skipping server: the SMS queue's activity runs once
per update id with the form's key in its ledger key and nothing else of the code; a refusal
or a withholding is the update's answer; the account's state is not changed. Fixed start
(tests/workflows/conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from tests.workflows.harness import Recorder, Scenario, account_of, keep_history
from workflows.contact_types import SmsFailure
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.policy import Policy
from workflows.selfservice_code import CODE_STAGE
from workflows.selfservice_code_types import CodeRequested, CodeSent

POLICY = Policy.model_validate(
    {
        "id": "wf-selfservice-code",
        "version": 1,
        "contact_windows": {"default": {"start": "08:00", "end": "21:00"}},
        "stages": [{"id": "d30_sms", "offset": "30d", "channel": "sms", "template": "t"}],
        "templates": {"t": {"en": "Hi. {link} Reply STOP to opt out."}},
    }
)
KEY = "0123456789abcdef0123456789abcdef"


async def test_a_code_is_sent_once_per_update_id_and_changes_no_state(
    scenario: Scenario, recorder: Recorder
) -> None:
    today = await scenario.today()
    handle = await scenario.start(POLICY, today - timedelta(days=2), amount=50_000)
    account = account_of(handle)
    before = await handle.query(OverdueAccountWorkflow.status)
    for _ in range(2):  # the same form sent twice: one update (its id), one activity
        sent = await handle.execute_update(
            OverdueAccountWorkflow.send_selfservice_code,
            CodeRequested(request_key=KEY),
            id=f"selfservice-code-{KEY}",
        )
        assert sent == CodeSent(outcome="sent")
    codes = [i for i, _ in recorder.sms if i.account_id == account and i.stage_id == CODE_STAGE]
    assert len(codes) == 1
    [code] = codes
    assert code.idempotency_key.endswith(f"/{CODE_STAGE}/{KEY}")
    assert code.facts is not None and code.facts.basis == "requested"
    assert code.facts.window_start is None  # a consumer-initiated message: no contact window
    after = await handle.query(OverdueAccountWorkflow.status)
    unchanged = ("state", "stages_done", "recent_contacts", "notes", "sms_opted_out")
    assert [getattr(after, f) for f in unchanged] == [getattr(before, f) for f in unchanged]
    await keep_history(handle, "selfservice_code_sent")


async def test_a_refused_code_is_the_updates_answer(scenario: Scenario, recorder: Recorder) -> None:
    today = await scenario.today()
    handle = await scenario.start(POLICY, today - timedelta(days=2), amount=50_000)
    recorder.sms_failures[CODE_STAGE] = SmsFailure.RECIPIENT_OPTED_OUT.value
    sent = await handle.execute_update(
        OverdueAccountWorkflow.send_selfservice_code, CodeRequested(request_key=KEY)
    )
    assert sent == CodeSent(outcome="refused")
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.state == "active" and not status.sms_opted_out


def test_a_request_carries_a_form_key_only() -> None:
    with pytest.raises(ValidationError):
        CodeRequested(request_key="123456")
    with pytest.raises(ValidationError):
        CodeRequested.model_validate({"request_key": KEY, "code": "123456"})

"""The workflow hands each SMS the registered templates its policy maps (for a provider that
sends no free text), from the policy it started with; an unmapped policy hands none. A process
that names its policy by digest hands the digest instead, and the activity reads the same
registrations from that version (activities/templates.with_policy_texts)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from activities.templates import with_policy_texts
from overdue.policy_files import load_policy
from tests.workflows.harness import ROOT, Recorder, Scenario, account_of

DAY = timedelta(days=1)


@pytest.mark.parametrize("by_digest", [True, False], ids=["by_digest", "whole"])
async def test_each_sms_carries_its_templates_registered_codes(
    scenario: Scenario, recorder: Recorder, by_digest: bool
) -> None:
    policy = load_policy(ROOT / "policies" / "default.yaml")
    unmapped = policy.model_copy(update={"provider_templates": {}})
    due = await scenario.today() + 5 * DAY
    whole = {} if by_digest else {"policy_ref": None}
    mapped_handle = await scenario.start(policy, due, **whole)
    unmapped_handle = await scenario.start(unmapped, due, **whole)
    await scenario.sleep_until(due + 2 * DAY)
    mapped, plain = account_of(mapped_handle), account_of(unmapped_handle)
    sent = [sms for sms, _ in recorder.sms if sms.account_id == mapped]
    assert [sms.stage_id for sms in sent] == ["d_minus_3_sms", "d1_sms"]
    for sms in sent:
        assert (sms.policy_ref is not None) is by_digest
        assert (sms.templates == {}) is by_digest  # no text in the history by digest
        registered = policy.provider_templates["alibaba"][sms.template_id]
        as_sent = with_policy_texts(sms)
        assert as_sent.registered == {"alibaba": registered}
        assert as_sent.templates == policy.templates[sms.template_id]
    plain_sms = [with_policy_texts(i) for i, _ in recorder.sms if i.account_id == plain]
    assert [i.registered for i in plain_sms] == [None, None]
    await mapped_handle.terminate()
    await unmapped_handle.terminate()

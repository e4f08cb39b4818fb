"""The workflow hands each SMS the registered templates its policy maps (for a provider that
sends no free text), from the policy it started with; an unmapped policy hands none."""

from __future__ import annotations

from datetime import timedelta

from overdue.policy_files import load_policy
from tests.workflows.harness import ROOT, Recorder, Scenario, account_of

DAY = timedelta(days=1)


async def test_each_sms_carries_its_templates_registered_codes(
    scenario: Scenario, recorder: Recorder
) -> None:
    policy = load_policy(ROOT / "policies" / "default.yaml")
    unmapped = policy.model_copy(update={"provider_templates": {}})
    due = await scenario.today() + 5 * DAY
    mapped_handle = await scenario.start(policy, due)
    unmapped_handle = await scenario.start(unmapped, due)
    await scenario.sleep_until(due + 2 * DAY)
    mapped, plain = account_of(mapped_handle), account_of(unmapped_handle)
    sent = [sms for sms, _ in recorder.sms if sms.account_id == mapped]
    assert [sms.stage_id for sms in sent] == ["d_minus_3_sms", "d1_sms"]
    for sms in sent:
        registered = policy.provider_templates["alibaba"][sms.template_id]
        assert sms.registered == {"alibaba": registered}
    assert [i.registered for i, _ in recorder.sms if i.account_id == plain] == [None, None]
    await mapped_handle.terminate()
    await unmapped_handle.terminate()

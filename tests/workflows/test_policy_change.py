"""Moving an account to another policy, in the pure core: what the validator refuses, what the
applier keeps (stages done stay done), and what the preview says would change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.workflows.records import make_record
from workflows.account import RequestRejected
from workflows.policy import Policy
from workflows.policy_change import PolicyChange, apply_policy_change, validate_policy_change
from workflows.policy_preview import PolicyPreviewRequest, preview


def _policy(version: int, stages: list[dict[str, Any]], **extra: Any) -> Policy:
    return Policy.model_validate(
        {
            "id": "move",
            "version": version,
            "contact_windows": {"default": {"start": "08:00", "end": "21:00"}},
            "stages": stages,
            "templates": {"t": {"en": "Hi. Reply STOP to opt out."}},
            **extra,
        }
    )


def _sms(stage_id: str, days: int) -> dict[str, Any]:
    return {"id": stage_id, "offset": f"{days}d", "channel": "sms", "template": "t"}


V1 = _policy(1, [_sms("d1_sms", 1), _sms("d10_sms", 10)])
V2 = _policy(2, [_sms("d1_sms", 1), _sms("d5_sms", 5), _sms("d10_sms", 10)])
NOW = datetime(2026, 3, 12, 4, tzinfo=UTC)  # 12:00 in Shanghai, two days after the due date


def _change(policy: Policy) -> PolicyChange:
    return PolicyChange(policy=policy, actor="ops:lee", change_id="move-2")


def test_a_newer_version_applies_and_what_was_done_stays_done() -> None:
    record = make_record(V1, handled=["d1_sms"])
    validate_policy_change(record, _change(V2), NOW)
    apply_policy_change(record, _change(V2), NOW)
    assert (record.policy.id, record.policy.version) == ("move", 2)
    assert record.handled == ["d1_sms"]
    assert record.history[-1] == "policy move v1 -> move v2 by ops:lee"


@pytest.mark.parametrize(
    ("record_policy", "proposed", "reason"),
    [
        (V2, V2, "the account is already on move v2"),
        (V2, V1, "move v1 is older than move v2, the account's"),
        (
            V1,
            _policy(3, [_sms("d1_sms", 1)], anchor="process_start"),
            "move v3 counts from process_start, this process from due_date: the anchor is "
            "fixed when the process starts",
        ),
    ],
)
def test_a_move_that_cannot_apply_is_refused_and_changes_nothing(
    record_policy: Policy, proposed: Policy, reason: str
) -> None:
    record = make_record(record_policy)
    before = record.model_copy(deep=True)
    with pytest.raises(RequestRejected) as refused:
        validate_policy_change(record, _change(proposed), NOW)
    assert str(refused.value) == reason
    assert record == before


def test_a_finished_account_cannot_move() -> None:
    record = make_record(V1, balance_minor=0)
    with pytest.raises(RequestRejected, match="the account is resolved"):
        validate_policy_change(record, _change(V2), NOW)


def test_another_policy_id_may_be_adopted() -> None:
    other = V2.model_copy(update={"id": "champion", "version": 1})
    validate_policy_change(make_record(V1), _change(other), NOW)


def test_the_preview_shows_the_added_stage_and_leaves_the_record_alone() -> None:
    record = make_record(V1, handled=["d1_sms"])
    before = record.model_copy(deep=True)
    shown = preview(record, PolicyPreviewRequest(policy=V2, horizon_days=30), NOW)
    assert record == before
    assert shown.rejected is None and shown.changes
    assert (shown.current_policy, shown.proposed_policy) == ("move v1", "move v2")
    assert [c.stage_id for c in shown.current] == ["d10_sms"]
    assert [c.stage_id for c in shown.proposed] == ["d5_sms", "d10_sms"]
    # d5 is local midnight plus the contact window's opening: 08:00 on 15 March in Shanghai.
    assert shown.proposed[0].at == datetime(2026, 3, 15, 0, tzinfo=UTC)


def test_the_preview_of_a_refused_move_says_why_and_a_short_horizon_shows_the_wait() -> None:
    record = make_record(V2, handled=["d1_sms"])
    shown = preview(record, PolicyPreviewRequest(policy=V1, horizon_days=1), NOW)
    assert shown.rejected == "move v1 is older than move v2, the account's"
    assert shown.current == [] and shown.proposed == []
    assert shown.current_next is not None and shown.current_next.stage_id == "d5_sms"
    assert shown.proposed_next is not None and shown.proposed_next.stage_id == "d10_sms"
    assert NOW + timedelta(days=1) < shown.current_next.at

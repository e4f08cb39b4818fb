"""The preview of a policy move (workflows/policy_change.py): what the account would do next
under its current policy and under the proposed one, before ops move it. Pure: no Temporal, no
I/O.

It runs `workflows.simulation` (the workflow's own loop, no events assumed) from now on a copy
of the record twice, and reports the first contacts of each within the horizon, or, where none
falls within it, what the process would wait for.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from workflows.account import RequestRejected
from workflows.messages import Message
from workflows.policy import Policy
from workflows.policy_change import (
    PolicyChange,
    apply_policy_change,
    policy_label,
    validate_policy_change,
)
from workflows.simulation import SimulatedContact, run
from workflows.types import AccountRecord, NextAction


class PolicyPreviewRequest(Message):
    policy: Policy
    horizon_days: int = Field(default=30, ge=1, le=366)
    contacts: int = Field(default=3, ge=1, le=20)


class PreviewContact(Message):
    stage_id: str
    channel: str
    at: datetime


class PolicyPreview(Message):
    """What the account would do next under each policy, from `at`, with no events."""

    at: datetime
    current_policy: str  # `id vN`
    proposed_policy: str
    rejected: str | None = Field(description="Why the move would be refused; None: it applies.")
    current: list[PreviewContact]
    proposed: list[PreviewContact]
    current_next: NextAction | None
    proposed_next: NextAction | None

    @property
    def changes(self) -> bool:
        return self.current != self.proposed or self.current_next != self.proposed_next


def preview(record: AccountRecord, request: PolicyPreviewRequest, now: datetime) -> PolicyPreview:
    """The next contacts under the current and the proposed policy (the record is not
    changed), and whether the move would be accepted."""
    change = PolicyChange(policy=request.policy, actor="preview", change_id="preview")
    try:
        validate_policy_change(record, change, now)
        rejected = None
    except RequestRejected as err:
        rejected = str(err)
    until = now + timedelta(days=request.horizon_days)
    current = run(record.model_copy(deep=True), (), now, until)
    moved = record.model_copy(deep=True)
    apply_policy_change(moved, change, now)
    proposed = run(moved, (), now, until)

    def first(made: list[SimulatedContact]) -> list[PreviewContact]:
        return [
            PreviewContact(stage_id=c.stage_id, channel=c.channel, at=c.at)
            for c in made[: request.contacts]
        ]

    return PolicyPreview(
        at=now,
        current_policy=policy_label(record.policy),
        proposed_policy=policy_label(request.policy),
        rejected=rejected,
        current=first(current.contacts),
        proposed=first(proposed.contacts),
        # Where no contact falls within the horizon: what the process would wait for.
        current_next=None if current.contacts else current.next_action,
        proposed_next=None if proposed.contacts else proposed.next_action,
    )

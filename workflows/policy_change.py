"""Moving a running account to another policy (version): the preview ops read first, the
validator that refuses a move that cannot apply, and the applier. Pure: no Temporal, no I/O.

A move replaces the policy the account's process decides with from the next decision on. What
was done stays done: stages are matched by id, so a stage the new version keeps (same id) is
not made again, and a stage it adds whose time has passed is caught up by the same rules as a
late start (`catch_up_grace`). The anchor offsets count from cannot change on a running process
(it was fixed when the process started), so a move between anchors is refused.
What a move would change is previewed by `workflows.policy_preview` before it is made.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from workflows.account import RequestRejected
from workflows.messages import Message
from workflows.policy import Policy
from workflows.policy_shelf import PolicyRef
from workflows.types import AccountRecord

ACTOR_PATTERN = r"^[^\x00-\x1f\x7f]{1,64}$"


class PolicyChange(Message):
    """Ops' request: decide with `policy` from now on (an update; `change_id` is its id)."""

    policy: Policy
    policy_ref: PolicyRef | None = Field(
        default=None,
        description="The policy's stored version (overdue policy move stores it first): the "
        "record then carries it by digest; None: carried whole.",
    )
    actor: str = Field(pattern=ACTOR_PATTERN)
    change_id: str = Field(pattern=r"^[A-Za-z0-9._:-]{1,128}$")


def policy_label(policy: Policy) -> str:
    return f"{policy.id} v{policy.version}"


def validate_policy_change(record: AccountRecord, change: PolicyChange, now: datetime) -> None:
    if record.finished:
        raise RequestRejected(f"the account is {record.state.value}; its policy cannot change")
    current, proposed = record.policy, change.policy
    if proposed.anchor != current.anchor:
        raise RequestRejected(
            f"{policy_label(proposed)} counts from {proposed.anchor}, this process from "
            f"{current.anchor}: the anchor is fixed when the process starts"
        )
    if proposed.id == current.id and proposed.version == current.version:
        raise RequestRejected(f"the account is already on {policy_label(current)}")
    if proposed.id == current.id and proposed.version < current.version:
        raise RequestRejected(
            f"{policy_label(proposed)} is older than {policy_label(current)}, the account's"
        )


def apply_policy_change(record: AccountRecord, change: PolicyChange, now: datetime) -> None:
    before = policy_label(record.policy)
    record.policy = change.policy
    record.policy_ref = change.policy_ref
    record.note(f"policy {before} -> {policy_label(change.policy)} by {change.actor}")

"""Review deadlines for disputes and objections. Pure: no Temporal, no I/O.

Where the policy has a `dispute_review` section, each dispute opened (`DisputeOpened`; the
borrower's objections arrive the same way) gets a deadline: the same local time of day,
`business_days` business days later in the account's rest-day calendar (the policy snapshot's,
as `workflows.revocation` counts them). Closed in time (`DisputeClosed`), it is forgotten; still
open then, the decision core answers `ReviewOverdue`, and acting on it asks for one task in the
section's `escalate_to` queue (supervisors by default), due at the deadline, so the supervisors'
list shows how long past it the review is.

The deadline is computed once, when the dispute arrives, kept in the record, and woken for by
`next_step` (a `WaitUntil`, never a side timer), so replay and the simulator see the same
time. Collection contact stays stopped while any dispute is open (the DISPUTED state; the
pre-send check withholds on one too): escalation changes nothing there (Reg F §1006.34 asks
collection to stop until a dispute is verified). Policies without the section (all snapshots
from before it) keep no deadline: their histories replay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from workflows.contact_rules import at_local
from workflows.forbearance_types import ReviewDeadline
from workflows.revocation import add_business_days, rest_day_rule
from workflows.types import AccountRecord

OVERDUE_TASK = "review_overdue"  # the task's stage id is `review_overdue_<n>`


@dataclass(frozen=True)
class ReviewOverdue:
    """A step of the decision core: a dispute passed its review deadline still open."""

    dispute_id: str


def review_deadline(record: AccountRecord, opened_at: datetime) -> datetime | None:
    """When a dispute opened at `opened_at` must have been reviewed; None without the section."""
    rules = record.policy.dispute_review
    if rules is None:
        return None
    local = opened_at.astimezone(ZoneInfo(record.time_zone))
    day = add_business_days(local.date(), rules.business_days, rest_day_rule(record))
    return at_local(day, local.time().replace(tzinfo=None), record.time_zone)


def start(record: AccountRecord, dispute_id: str, now: datetime) -> None:
    """A dispute was opened (new to the record): start its deadline, where the policy has one."""
    deadline = review_deadline(record, now)
    if deadline is None or any(r.dispute_id == dispute_id for r in record.reviews):
        return
    record.reviews.append(ReviewDeadline(dispute_id=dispute_id, opened_at=now, deadline=deadline))
    record.note(f"dispute {dispute_id}: review due by {deadline}")


def close(record: AccountRecord, dispute_id: str) -> None:
    """A dispute was closed: its deadline (met or escalated) is done with."""
    record.reviews = [r for r in record.reviews if r.dispute_id != dispute_id]


def first_due(record: AccountRecord) -> ReviewDeadline | None:
    waiting = [r for r in record.reviews if not r.escalated]
    return min(waiting, key=lambda r: r.deadline) if waiting else None


def overdue(record: AccountRecord, now: datetime) -> ReviewOverdue | None:
    due = first_due(record)
    return ReviewOverdue(due.dispute_id) if due is not None and now >= due.deadline else None


def wake_at(record: AccountRecord) -> datetime | None:
    """When the process must wake for the next review deadline, if it must."""
    due = first_due(record)
    return due.deadline if due is not None else None


def escalate(record: AccountRecord, step: ReviewOverdue) -> None:
    """The review is late: one task for the section's queue, due at the deadline."""
    rules = record.policy.dispute_review
    assert rules is not None
    review = next(r for r in record.reviews if r.dispute_id == step.dispute_id)
    review.escalated = True
    record.request_task(OVERDUE_TASK, rules.escalate_to, rules.priority, review.deadline)
    record.note(
        f"dispute {step.dispute_id} not reviewed by {review.deadline}: "
        f"escalated to {rules.escalate_to.value}"
    )


def overdue_reviews(record: AccountRecord) -> list[ReviewDeadline]:
    return [r for r in record.reviews if r.escalated]

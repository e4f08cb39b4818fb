"""Deadlines that wake the process whatever else it waits for: a pending SMS revocation's
(`workflows.revocation`) and a dispute's review (`workflows.review_deadlines`). Pure.

The decision core wraps the step it decided with `wake_for_deadlines`: a wait that would
outlast a deadline is cut short at it, so the overdue step is decided at that time, in the
workflow and in the simulator alike (no side timer).
"""

from __future__ import annotations

from datetime import datetime

from workflows import review_deadlines, revocation
from workflows.steps import Step, WaitForEvents, WaitUntil
from workflows.types import AccountRecord


def wake_for_deadlines(record: AccountRecord, step: Step) -> Step:
    step = _wake(step, review_deadlines.wake_at(record), "Dispute review: the deadline is due")
    return _wake(
        step, revocation.deadline_wake(record), "SMS revocation: an agent's decision is due"
    )


def _wake(step: Step, wake: datetime | None, label: str) -> Step:
    if wake is None or not isinstance(step, WaitUntil | WaitForEvents):
        return step
    if isinstance(step, WaitUntil) and step.at <= wake:
        return step
    return WaitUntil(at=wake, label=label)

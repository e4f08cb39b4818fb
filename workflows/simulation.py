"""A policy simulator: the workflow's decision loop without Temporal, for previews and tests.

It drives the same pure core the workflow uses (`next_step`, `settle`, the event functions),
with every side effect assumed to succeed, and reports each contact it would make.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from workflows import account as acct
from workflows.decisions import (
    Act,
    BreakPlan,
    BreakPromise,
    Finished,
    PassOver,
    PlanCompleted,
    RemindInstalment,
    Suppress,
    WaitForEvents,
    WaitUntil,
    apply_transition,
    begin_stage,
    finish_stage,
    next_step,
    settle,
)
from workflows.policy import Channel, Stage
from workflows.types import (
    AccountRecord,
    ContactCeased,
    ContactEntry,
    DisputeClosed,
    DisputeOpened,
    HardshipReported,
    OverdueAmountReported,
    PauseRequest,
    PaymentReported,
    ResumeRequest,
    SmsConsentChanged,
)

Event = (
    PaymentReported
    | OverdueAmountReported
    | HardshipReported
    | DisputeOpened
    | DisputeClosed
    | ContactCeased
    | SmsConsentChanged
    | PauseRequest
    | ResumeRequest
)


@dataclass(frozen=True)
class SimulatedContact:
    at: datetime
    stage_id: str
    channel: str  # sms, call_task, notify
    kind: str | None  # the notify kind
    queue: str | None


def apply_event(record: AccountRecord, event: Event, now: datetime) -> None:
    """Apply a backend event as the workflow's signal handlers do."""
    if isinstance(event, PaymentReported):
        acct.apply_payment(record, event)
    elif isinstance(event, OverdueAmountReported):
        acct.apply_new_bill(record, event)
    elif isinstance(event, HardshipReported):
        acct.apply_hardship_report(record, event, now)
    elif isinstance(event, DisputeOpened):
        acct.apply_dispute_opened(record, event)
    elif isinstance(event, DisputeClosed):
        acct.apply_dispute_closed(record, event)
    elif isinstance(event, ContactCeased):
        acct.apply_cease_contact(record, event)
    elif isinstance(event, SmsConsentChanged):
        acct.apply_sms_consent(record, event)
    elif isinstance(event, PauseRequest):
        if record.pause is None and not record.finished:
            acct.apply_pause(record, event, now)
    elif record.pause is not None:
        acct.apply_resume(record, event)


def simulate(
    record: AccountRecord,
    events: Sequence[tuple[datetime, Event]],
    start: datetime,
    until: datetime,
    max_steps: int = 10_000,
) -> list[SimulatedContact]:
    """Run the process from `start` to `until`; events are applied at their times, in order."""
    pending = sorted(events, key=lambda pair: pair[0])
    contacts: list[SimulatedContact] = []
    now = start
    for _ in range(max_steps):
        while pending and pending[0][0] <= now:
            _, event = pending.pop(0)
            apply_event(record, event, now)
        record.outbox.clear()  # review and callback tasks are not automated contacts
        step = next_step(record, now)
        if isinstance(step, Finished):
            break
        if isinstance(step, Act | Suppress | PassOver):
            stage = settle(record, step)
            if stage is not None:
                contacts.append(_act(record, stage, now))
        elif isinstance(step, RemindInstalment):
            assert record.plan is not None
            record.plan.reminded.append(step.index)
            record.record_contact(
                ContactEntry(channel="sms", stage_id=f"plan_{step.index}", at=now, outcome="sent")
            )
            contacts.append(SimulatedContact(now, f"plan_{step.index}", "sms", None, None))
        elif isinstance(step, BreakPromise | BreakPlan | PlanCompleted):
            apply_transition(record, step, now)
        else:
            wake = step.at if isinstance(step, WaitUntil) else None
            next_event = pending[0][0] if pending else None
            candidates = [t for t in (wake, next_event) if t is not None]
            assert isinstance(step, WaitUntil | WaitForEvents)
            if not candidates or min(candidates) > until:
                break
            now = max(now, min(candidates))
    return contacts


def _act(record: AccountRecord, stage: Stage, now: datetime) -> SimulatedContact:
    begin_stage(record, stage)
    queue = record.call_queue(stage.queue).value if stage.queue else None
    if stage.channel is Channel.SMS:
        record.record_contact(
            ContactEntry(channel="sms", stage_id=stage.id, at=now, outcome="sent")
        )
    elif stage.channel is Channel.CALL_TASK:
        record.record_contact(
            ContactEntry(channel="call", stage_id=stage.id, at=now, outcome="task_created")
        )
    else:
        record.record_contact(
            ContactEntry(channel="notify", stage_id=stage.id, at=now, outcome="sent")
        )
    finish_stage(record, stage)
    return SimulatedContact(
        at=now,
        stage_id=stage.id,
        channel=stage.channel.value,
        kind=stage.kind.value if stage.kind else None,
        queue=queue,
    )

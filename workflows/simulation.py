"""A policy simulator: the account workflow's run loop without Temporal, for previews and tests.

It runs the workflow's own pure code, nothing of its own but the clock: events and requests go
through `workflows.handlers` (the workflow's signals and updates, validators included: an
update the workflow would reject is rejected here too), steps come from `next_step`, and what
each step does to the record is `workflows.acting`'s. Every side effect is assumed to succeed
at once and is reported: the contacts made, the call tasks asked for, the cancellations, and
the activities the workflow schedules for them (with its events' audit) and the local one that
closes it, which `overdue simulate` counts as billed actions (overdue/strategy/tally.py).
`tests/workflows/test_simulation_parity.py` runs random policies and timelines both here and on
Temporal's time-skipping server and compares what they did.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workflows import event_audit
from workflows.acting import (
    Nothing,
    Reminder,
    StageContact,
    closing_reason,
    contact_made,
    finish,
    next_action,
    next_requested_task,
    prepare,
    take_cancel,
)
from workflows.decisions import Finished, WaitForEvents, WaitUntil, next_step
from workflows.forbearance import notice_sent, take_notice
from workflows.forbearance_types import ForbearanceNotice
from workflows.handlers import Message, Receipt, Signal, receive, signal_of
from workflows.types import (
    AccountRecord,
    ContactCeased,
    DisputeClosed,
    DisputeOpened,
    HardshipReported,
    NextAction,
    OverdueAmountReported,
    PauseRequest,
    PaymentReported,
    ResumeRequest,
    SmsConsentChanged,
)

# An event as a backend or an ops batch job sends it: the signal of its type (handlers.signal_of).
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
Timeline = Sequence[tuple[datetime, Event | Message[Any]]]


@dataclass(frozen=True)
class SimulatedContact:
    at: datetime
    stage_id: str  # a stage's id, or an instalment reminder's (`plan_instalment_1`, ...)
    channel: str  # sms, call_task, notify
    kind: str | None  # the notify kind
    queue: str | None  # a call task's queue, as routed for the account


@dataclass(frozen=True)
class SimulatedTask:
    """A call task an event or an agent asked for (a review, a callback): not a contact the
    core decided, so the caps do not count it."""

    at: datetime
    stage_id: str
    queue: str
    priority: int
    due_at: datetime


@dataclass(frozen=True)
class Delivered:
    at: datetime
    handler: str  # the workflow's signal or update
    receipt: Receipt


@dataclass
class Simulation:
    record: AccountRecord  # as the process left it
    contacts: list[SimulatedContact] = field(default_factory=list)
    tasks: list[SimulatedTask] = field(default_factory=list)
    cancellations: list[tuple[datetime, str]] = field(default_factory=list)  # open call tasks
    delivered: list[Delivered] = field(default_factory=list)  # events received, in order
    notices: list[tuple[datetime, ForbearanceNotice]] = field(default_factory=list)  # backend
    next_action: NextAction | None = None  # as the status shows it at the end
    finished_at: datetime | None = None
    # The record's state each time it changed (first: as the process began): the portfolio
    # simulator's accounts by state and day (overdue/strategy).
    states: list[tuple[datetime, str]] = field(default_factory=list)
    # Activities the workflow schedules besides its contacts and call tasks: its received
    # events' audit ("audit"), a cancel of open call tasks ("cancel"), a forbearance notice
    # ("notice"); and when its end ran the local activity that closes it (the end's audit and
    # cancel: workflows/closing.py), if it ran one.
    activities: list[tuple[datetime, str]] = field(default_factory=list)
    closed_at: datetime | None = None
    # Signals that changed the record and that the audit trail keeps, not audited yet.
    unaudited: int = 0


def run(
    record: AccountRecord,
    events: Timeline,
    start: datetime,
    until: datetime,
    max_steps: int = 10_000,
) -> Simulation:
    """Run the process from `start` to `until` (or its end); events are received at their
    times, in order, while the process waits, as the workflow's handlers receive them."""
    pending = deque(
        sorted(((at, _message(event)) for at, event in events), key=lambda pair: pair[0])
    )
    sim = Simulation(record=record)
    now = start
    for _ in range(max_steps):
        while pending and pending[0][0] <= now:
            at, message = pending.popleft()
            receipt = receive(record, message, now)
            sim.delivered.append(Delivered(at, message.handler.name, receipt))
            sim.unaudited += _audited(message, receipt)
        _do_chores(sim, now)
        action = prepare(record, next_step(record, now), now)
        _note_state(sim, now)
        if isinstance(action, Finished):
            sim.next_action, sim.finished_at = None, now
            if record.call_tasks_asked:  # as the workflow (cost-2026-12): none asked, none open
                sim.cancellations.append((now, closing_reason(record)))
            if record.call_tasks_asked or sim.unaudited:  # closing-2026-12: one for both
                sim.closed_at, sim.unaudited = now, 0
            break
        if isinstance(action, WaitUntil | WaitForEvents):
            sim.next_action = next_action(action)
            wake = action.at if isinstance(action, WaitUntil) else None
            candidates = [t for t in (wake, pending[0][0] if pending else None) if t is not None]
            if not candidates or min(candidates) > until:
                break
            now = max(now, min(candidates))
        else:
            _make(sim, action, now)
    return sim


def simulate(
    record: AccountRecord,
    events: Timeline,
    start: datetime,
    until: datetime,
    max_steps: int = 10_000,
) -> list[SimulatedContact]:
    """The contacts `run` makes: stages' and instalment reminders'."""
    return run(record, events, start, until, max_steps).contacts


def _message(event: Event | Message[Any]) -> Message[Any]:
    return event if isinstance(event, Message) else signal_of(event)


def _note_state(sim: Simulation, now: datetime) -> None:
    state = sim.record.state.value
    if not sim.states or sim.states[-1][1] != state:
        sim.states.append((now, state))


def _audited(message: Message[Any], receipt: Receipt) -> int:
    """1 for a signal the workflow hands to its events' audit (account_process._receive)."""
    keeps = isinstance(message.handler, Signal) and receipt.changed
    return int(keeps and event_audit.received(message.payload) is not None)


def _do_chores(sim: Simulation, now: datetime) -> None:
    """As the workflow's chores: the events' audit (a finished account's waits for its close),
    a cancel, the tasks events asked for, forbearance notices."""
    if sim.unaudited and not sim.record.finished:
        sim.activities.append((now, "audit"))
        sim.unaudited = 0
    reason = take_cancel(sim.record)
    if reason is not None:
        sim.cancellations.append((now, reason))
        sim.activities.append((now, "cancel"))
    while (task := next_requested_task(sim.record)) is not None:
        sim.record.call_tasks_asked = True
        sim.tasks.append(
            SimulatedTask(now, task.stage_id, task.queue.value, task.priority, task.due_at)
        )
    while (notice := take_notice(sim.record)) is not None:  # a write-down or a freeze
        sim.notices.append((now, notice))
        sim.activities.append((now, "notice"))
        notice_sent(sim.record, notice, "delivered")


def _make(sim: Simulation, action: StageContact | Reminder | Nothing, now: datetime) -> None:
    record = sim.record
    if isinstance(action, StageContact):
        stage = action.stage
        record.call_tasks_asked |= action.channel == "call"
        contact_made(record, action.channel, stage.id, now)
        finish(record, action)
        sim.contacts.append(
            SimulatedContact(
                at=now,
                stage_id=stage.id,
                channel=stage.channel.value,
                kind=stage.kind.value if stage.kind else None,
                queue=action.queue.value if action.queue else None,
            )
        )
    elif isinstance(action, Reminder):
        contact_made(record, "sms", action.stage_id, now)
        sim.contacts.append(SimulatedContact(now, action.stage_id, "sms", None, None))

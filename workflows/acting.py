"""What acting on a step does to the account record: the run loop without its side effects.

The workflow and the simulator run the same loop (docs/workflow.md, "The run loop"):

1. do the chores events left: `take_cancel` (open call tasks to cancel), then every
   `next_requested_task` (a hardship review, a callback);
2. ask `next_step`, and hand the step to `prepare`, which records on the account what the step
   does before any side effect and answers what is left to do: a stage's contact
   (`StageContact`), an instalment reminder (`Reminder`), nothing (`Nothing`: stages passed
   over or suppressed, a promise or plan broken or completed), or the step itself to wait on
   (`WaitUntil`, `WaitForEvents`) or to close on (`Finished`, with `closing_reason`);
3. once a contact is made, `contact_made` records it (the caps count it) and, for a stage,
   `finish` closes the stage.

The workflow makes each contact through an activity (`workflows.contact_attempt`); the
simulator assumes it made at once. Pure: no Temporal, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from workflows import consent_rules, forbearance, review_deadlines
from workflows.decisions import (
    Act,
    BreakPlan,
    BreakPromise,
    Finished,
    PassOver,
    PlanCompleted,
    RemindInstalment,
    ReviewOverdue,
    SettlementLapsed,
    Step,
    Suppress,
    WaitForEvents,
    WaitUntil,
    anchor_time,
    apply_transition,
    begin_stage,
    contact_key,
    finish_stage,
    passed_stage_ids,
    settle,
)
from workflows.policy import CallQueue, Channel, Stage
from workflows.revocation import RevocationOverdue, escalate_overdue
from workflows.types import (
    AccountRecord,
    ContactEntry,
    NextAction,
    OverdueAccountInput,
    TaskRequest,
)

ContactChannel = Literal["sms", "call", "notify"]  # as the account's contacts name them
CONTACT_CHANNEL: dict[Channel, ContactChannel] = {
    Channel.SMS: "sms",
    Channel.CALL_TASK: "call",
    Channel.NOTIFY: "notify",
}
# The outcome a contact made is recorded with.
MADE: dict[ContactChannel, str] = {"sms": "sent", "call": "task_created", "notify": "sent"}


@dataclass(frozen=True)
class StageContact:
    """Contact the customer for `stage`: its attempt is counted, `key` is its idempotency key."""

    stage: Stage
    key: str
    channel: ContactChannel
    queue: CallQueue | None  # a call task's queue, as routed for this account


@dataclass(frozen=True)
class Reminder:
    """The SMS reminding instalment `index` of the plan; counted as reminded already."""

    index: int
    stage_id: str
    template: str
    key: str
    label: str


@dataclass(frozen=True)
class Nothing:
    """The step changed the record only."""


Action = StageContact | Reminder | Nothing | WaitUntil | WaitForEvents | Finished


def new_record(input: OverdueAccountInput, episode_id: str, started_at: datetime) -> AccountRecord:
    """The record a process starts with (`started_at` anchors `process_start` policies)."""
    return AccountRecord(
        account_id=input.account_id,
        product=input.product,
        currency=input.currency,
        due_date=input.due_date,
        time_zone=input.time_zone,
        jurisdiction=input.jurisdiction,
        risk_segment=input.risk_segment,
        vulnerable=input.vulnerable,
        policy=input.policy,
        policy_ref=input.policy_ref,  # carried by digest across continue-as-new when set
        episode_id=episode_id,
        anchor_at=anchor_time(input.policy, input.due_date, input.time_zone, started_at),
        balance_minor=input.amount_due_minor,
        # Inputs from before bill ids (old histories) start with none seen, as they did.
        bills_seen=[input.bill_id] if input.bill_id else [],
        consents=consent_rules.start_state(input),  # none in inputs from before consent
        itemization=forbearance.start_itemization(input, started_at),
    )


def take_cancel(record: AccountRecord) -> str | None:
    """Why the account's open call tasks are to be cancelled now, if they are: contact was
    stopped (a wrong number, a cease) while the process goes on. A resolved or closed account
    cancels them when it ends (`closing_reason`)."""
    if not record.cancel_open_tasks:
        return None
    record.cancel_open_tasks = False
    return None if record.finished else "contact stopped"


def next_requested_task(record: AccountRecord) -> TaskRequest | None:
    """The next call task an event or an agent asked for; none once the account is finished."""
    if record.outbox and not record.finished:
        return record.outbox.pop(0)
    return None


def closing_reason(record: AccountRecord) -> str:
    """Why the open call tasks are cancelled when the process ends."""
    return "account resolved" if record.balance_minor == 0 else "closed"


def prepare(record: AccountRecord, step: Step, now: datetime) -> Action:
    """Record what `step` does before any side effect; answer what is left to do."""
    if isinstance(step, Act | Suppress | PassOver):
        stage = settle(record, step)
        return Nothing() if stage is None else begin_contact(record, stage)
    if isinstance(step, RemindInstalment):
        return begin_reminder(record, step)
    if isinstance(step, BreakPromise | BreakPlan | PlanCompleted):
        apply_transition(record, step, now)
        return Nothing()
    if isinstance(step, RevocationOverdue):
        escalate_overdue(record, now)
        return Nothing()
    if isinstance(step, ReviewOverdue):
        review_deadlines.escalate(record, step)
        return Nothing()
    if isinstance(step, SettlementLapsed):
        forbearance.lapse(record, passed_stage_ids(record, now))
        return Nothing()
    return step


def begin_contact(record: AccountRecord, stage: Stage) -> StageContact:
    key = begin_stage(record, stage)
    queue = record.call_queue(stage.queue) if stage.queue is not None else None
    return StageContact(stage=stage, key=key, channel=CONTACT_CHANNEL[stage.channel], queue=queue)


def instalment_stage_id(index: int) -> str:
    return f"plan_instalment_{index + 1}"


def begin_reminder(record: AccountRecord, step: RemindInstalment) -> Reminder:
    assert record.plan is not None
    template = record.policy.hardship.reminder_template
    assert template is not None
    # Counted as reminded even when withheld: the payment that withheld it is most likely
    # the instalment, and the key has no attempt number to send again with.
    record.plan.reminded.append(step.index)
    stage_id = instalment_stage_id(step.index)
    return Reminder(
        index=step.index,
        stage_id=stage_id,
        template=template,
        key=contact_key(record.account_id, record.episode_id, stage_id),
        label=f"Instalment {step.index + 1} reminder",
    )


def contact_made(
    record: AccountRecord, channel: ContactChannel, stage_id: str, now: datetime
) -> None:
    """Record a contact made, which the caps count from now on."""
    record.record_contact(
        ContactEntry(channel=channel, stage_id=stage_id, at=now, outcome=MADE[channel])
    )


def finish(record: AccountRecord, contact: StageContact) -> None:
    """The stage's contact is done with (made, refused or given up): the stage is handled."""
    finish_stage(record, contact.stage)


def next_action(step: WaitUntil | WaitForEvents) -> NextAction | None:
    """What the status shows as next while the process waits on `step`."""
    if isinstance(step, WaitForEvents):
        return None
    return NextAction(stage_id=step.stage.id if step.stage else "", label=step.label, at=step.at)

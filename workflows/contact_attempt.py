"""One contact through an activity: made, given up, withheld or refused, and recorded.

Every contact the workflow decides (a stage's SMS, call task or notice, an instalment reminder,
the call task that stands in for an SMS a number cannot receive) is one `attempt`:

- its activity runs with the same options: transient failures retry for as long as it takes,
  since the ledger's idempotency key makes every retry safe;
- it carries the basis of the decision (the payments the workflow knew), which the activity
  checks again just before the provider call;
- **given up** if the account resolves while it is under way: an SMS still retrying through a
  provider outage must not reach a customer who has paid;
- **withheld** when that check finds a payment, a cease-contact request or an open dispute the
  decision did not know: nothing was sent, and once the workflow has it the stage is decided
  again (workflows/contact_withheld.py);
- **refused** on a permanent (non-retryable) error: what that means is the channel's to say;
- **made** otherwise, and recorded in the account's contacts, which the caps count.

The channels (`send_sms`, `create_call_task`, `send_notice`) differ only in their activity and
its input, what a refusal means, and whether a given-up contact ends its stage.

Which patches an attempt asks about, and in which order, is written into every history: see
workflows/patches.py before changing `GiveUp` or the order of the steps in `attempt`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any, Generic, Literal, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.types import MethodAsyncSingleParam
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from activities.call_tasks import CallTaskActivities
    from activities.notify import NotifyActivities
    from activities.sms import SmsActivities
    from workflows import consent_rules, contact_withheld, patches, stage_validity
    from workflows.contact_facts import facts_for
    from workflows.contact_types import (
        CONTACT_WITHHELD,
        ContactBasis,
        CreateCallTaskInput,
        DecisionBasis,
        NotifyInput,
        SendSmsInput,
        SmsFailure,
    )
    from workflows.decisions import contact_key, days_past_due
    from workflows.letter_input import letter_spec
    from workflows.names import SMS_TASK_QUEUE
    from workflows.policy import CallQueue, Stage
    from workflows.provider_templates import registered_for
    from workflows.types import AccountRecord, ContactEntry, TaskRequest

ACTIVITY_TIMEOUT = timedelta(seconds=30)
# Transient failures (database restart, provider outage) retry for as long as it takes; the
# ledger's idempotency key makes every retry safe. Permanent ones are non-retryable errors.
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)
WAIT_FOR_THE_ATTEMPT = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
# Priority of the call task that stands in for an SMS the number cannot receive.
SMS_FALLBACK_PRIORITY = 50


class Outcome(Enum):
    MADE = "made"
    REFUSED = "refused"
    GIVEN_UP = "given up"
    WITHHELD = "withheld"


@dataclass(frozen=True)
class Attempted:
    outcome: Outcome
    refusal: str | None = None  # the error type of a refusal


@dataclass(frozen=True)
class GiveUp:
    """How a channel's contacts are given up when the account resolves meanwhile, and the
    patches that brought it in: `gate` turned giving up on (without it, the contact is awaited
    to its end); since `waits_since` (None: always) the attempt under way is waited for, so
    nothing it does lands after the process closed or its call tasks were cancelled."""

    gate: str
    waits_since: str | None

    def cancellation(self) -> ActivityCancellationType:
        if self.waits_since is None or patches.patched(self.waits_since):
            return WAIT_FOR_THE_ATTEMPT
        return ActivityCancellationType.TRY_CANCEL

    def enabled(self) -> bool:
        return patches.patched(self.gate)


# SMS and notices: given up since one patch, waiting for the attempt under way since the next.
MESSAGES = GiveUp(
    gate=patches.GIVE_UP_CONTACTS_ON_RESOLUTION, waits_since=patches.GIVE_UP_AFTER_THE_ATTEMPT
)
# Given up on resolution, a call task's attempt under way ends before the open tasks are
# cancelled, so the task it may still create is cancelled too.
CALL_TASKS = GiveUp(gate=patches.GIVE_UP_AFTER_THE_ATTEMPT, waits_since=None)

InputT = TypeVar("InputT")


@dataclass(frozen=True)
class Contact(Generic[InputT]):
    """What one channel's contact is: its activity and input, and how it is recorded."""

    stage_id: str
    channel: Literal["sms", "call", "notify"]  # as the account's contacts name it
    activity: MethodAsyncSingleParam[Any, InputT, Any]
    input: InputT
    summary: str  # how the activity reads in the Temporal UI
    give_up: GiveUp
    made: str = "sent"  # the outcome recorded when the activity completes
    task_queue: str | None = None  # None: the workflow's own
    # Refusals the channel acts on itself, whether or not the activity marked them final. Any
    # other permanent refusal is noted and the process goes on; with None it fails the process.
    answers: frozenset[str] | None = frozenset()


def decision_basis(
    record: AccountRecord, stage_id: str, channel: str | None = None
) -> DecisionBasis | None:
    """What this decision knew, for the activity to check again just before it sends; None for
    a stage whose withheld-for payment never arrived (the check would withhold it again).
    `channel`: the consent channel of the contact (workflows.consent_rules)."""
    if stage_id in record.unchecked_stages:
        return None
    return DecisionBasis(
        payments_known=list(record.payments_seen),
        since=workflow.info().workflow_start_time,
        ceased_known=record.contact_ceased,
        disputes_known=list(record.open_disputes),
        calls_after_cease=record.policy.calls_after_cease,
        consent_channel=consent_rules.relied_on(record, channel),
    )


async def attempt(record: AccountRecord, contact: Contact[Any]) -> Attempted:
    """Make one contact. Its patches are asked in the order the recorded histories have their
    markers, the cancellation type's before the give-up gate's: keep that order."""
    known = len(record.payments_seen)
    running = workflow.execute_activity_method(
        contact.activity,
        contact.input,
        task_queue=contact.task_queue,
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=ACTIVITY_RETRY,
        cancellation_type=contact.give_up.cancellation(),
        summary=contact.summary,
    )
    try:
        if not await _unless_resolved(record, running, contact):
            return Attempted(Outcome.GIVEN_UP)
    except ActivityError as err:
        return await _failed(record, contact, err, known)
    record.record_contact(
        ContactEntry(
            channel=contact.channel,
            stage_id=contact.stage_id,
            at=workflow.now(),
            outcome=contact.made,
        )
    )
    return Attempted(Outcome.MADE)


async def _unless_resolved(
    record: AccountRecord, running: Coroutine[Any, Any, Any], contact: Contact[Any]
) -> bool:
    """Await the activity, but give it up if the account resolves meanwhile. Returns whether
    the contact completed."""
    if not contact.give_up.enabled():
        await running
        return True
    task = asyncio.ensure_future(running)
    await workflow.wait_condition(lambda: task.done() or record.finished)
    if task.done():
        task.result()  # raises the activity's error, as awaiting it would
        return True
    task.cancel()  # a retrying activity is not retried again
    try:
        await task  # TRY_CANCEL: at once; WAIT_CANCELLATION_COMPLETED: the attempt's end
    except (asyncio.CancelledError, ActivityError):
        record.note(f"{contact.stage_id}: contact given up, the account resolved meanwhile")
        return False
    return True  # the attempt under way completed the contact after all


async def _failed(
    record: AccountRecord, contact: Contact[Any], err: ActivityError, known: int
) -> Attempted:
    cause = err.cause
    failure = cause.type if isinstance(cause, ApplicationError) else None
    if failure == CONTACT_WITHHELD:
        assert isinstance(cause, ApplicationError)
        await contact_withheld.decide_again(record, contact.stage_id, cause, known)
        return Attempted(Outcome.WITHHELD)
    if contact.answers is None:
        raise err
    if failure in contact.answers:
        return Attempted(Outcome.REFUSED, failure)
    # A permanent refusal (the activity said: don't retry) must not fail the account's whole
    # process: it is noted, the ledger has the details, and the process goes on.
    if not isinstance(cause, ApplicationError) or not cause.non_retryable:
        raise err
    record.note(f"{contact.stage_id}: {contact.channel} refused ({cause.type})")
    return Attempted(Outcome.REFUSED, cause.type)


# --- the channels ----------------------------------------------------------------------

# The SMS refusals the workflow acts on: an opt-out at the provider, a number that cannot
# receive SMS (Twilio 21610; 21211 / 21614).
_SMS_ANSWERS = frozenset(failure.value for failure in SmsFailure)


async def send_sms(
    record: AccountRecord, stage_id: str, template_id: str, key: str, label: str
) -> bool:
    """A stage's SMS or an instalment reminder. False when withheld (decide again); True when
    sent, refused or given up. A number that cannot receive SMS gets a call task instead."""
    # A process that names its policy by digest names it to the activity too: the template's
    # texts stay out of every SMS's input in the history (release policy-by-digest-2026-12).
    by_ref = record.policy_ref is not None
    registered = None if by_ref else registered_for(record.policy.provider_templates, template_id)
    sms = SendSmsInput(
        idempotency_key=key,
        account_id=record.account_id,
        stage_id=stage_id,
        template_id=template_id,
        templates={} if by_ref else record.policy.templates[template_id],
        policy_ref=record.policy_ref,
        default_locale=record.policy.default_locale,
        amount_minor=record.balance_minor,
        currency=record.currency,
        due_date=record.due_date,
        days_past_due=days_past_due(record.due_date, record.time_zone, workflow.now()),
        basis=decision_basis(record, stage_id, "sms"),
        facts=facts_for(record, stage_id),
        registered=registered,
        itemization=record.itemization.itemization if record.itemization else None,
    )
    attempted = await attempt(
        record,
        Contact(
            stage_id=stage_id,
            channel="sms",
            activity=SmsActivities.send_sms,
            input=sms,
            summary=f"{label}: send SMS",
            give_up=MESSAGES,
            task_queue=SMS_TASK_QUEUE,
            answers=_SMS_ANSWERS,
        ),
    )
    if attempted.refusal == SmsFailure.RECIPIENT_OPTED_OUT:
        record.sms_opted_out = True
        record.note(f"{stage_id}: recipient opted out at the provider")
    elif attempted.refusal == SmsFailure.UNREACHABLE_NUMBER:
        # Not a mobile or not valid for SMS: an agent tries by phone instead, unless the
        # policy's written notice must precede any call and has not gone (stage_validity.py).
        record.sms_unreachable = True
        if not stage_validity.call_allowed_before_notice(record):
            record.note(f"{stage_id}: number cannot receive SMS; no call before the notice")
            return True
        if not consent_rules.allows(record, "call"):
            record.note(f"{stage_id}: number cannot receive SMS; no call: no_consent: call")
            return True
        record.note(f"{stage_id}: number cannot receive SMS; call task instead")
        fallback = f"{stage_id}_fallback"
        await create_call_task(
            record,
            contact_key(record.account_id, record.episode_id, fallback),
            fallback,
            record.call_queue(CallQueue.GENERAL),
            SMS_FALLBACK_PRIORITY,
            f"{label}: SMS undeliverable",
            basis="fallback",
        )
    return attempted.outcome is not Outcome.WITHHELD


async def create_call_task(
    record: AccountRecord,
    key: str,
    stage_id: str,
    queue: CallQueue,
    priority: int,
    label: str,
    *,
    basis: ContactBasis = "stage",
) -> bool:
    """A call task for agents. False when withheld (decide again); True when created or given
    up. Only our own database can refuse one, so a permanent error fails the process."""
    record.call_tasks_asked = True  # from here on the end has a task to cancel
    task = CreateCallTaskInput(
        idempotency_key=key,
        account_id=record.account_id,
        stage_id=stage_id,
        queue=queue,
        priority=priority,
        due_at=workflow.now(),
        basis=decision_basis(record, stage_id, "call"),
        facts=facts_for(record, stage_id, basis),
    )
    attempted = await attempt(
        record,
        Contact(
            stage_id=stage_id,
            channel="call",
            activity=CallTaskActivities.create_call_task,
            input=task,
            summary=f"{label}: call task for the {queue.value} queue",
            give_up=CALL_TASKS,
            made="task_created",
            answers=None,
        ),
    )
    return attempted.outcome is not Outcome.WITHHELD


async def send_notice(record: AccountRecord, stage: Stage, key: str) -> bool:
    """A `notify` stage: the backend sends it through its own channel. True when sent or
    refused; False when withheld (decide again) or given up, which, unlike an SMS or a call
    task given up, leaves the stage open."""
    assert stage.kind is not None
    notice = NotifyInput(
        idempotency_key=key,
        account_id=record.account_id,
        stage_id=stage.id,
        kind=stage.kind,
        template_id=stage.template,
        amount_minor=record.balance_minor,
        currency=record.currency,
        days_past_due=days_past_due(record.due_date, record.time_zone, workflow.now()),
        basis=decision_basis(record, stage.id, consent_rules.channel_of(stage)),
        facts=facts_for(record, stage.id),
        letter=letter_spec(record, stage),
    )
    attempted = await attempt(
        record,
        Contact(
            stage_id=stage.id,
            channel="notify",
            activity=NotifyActivities.send_notification,
            input=notice,
            summary=f"{stage.label}: notify the backend",
            give_up=MESSAGES,
        ),
    )
    return attempted.outcome in (Outcome.MADE, Outcome.REFUSED)


async def create_requested_task(record: AccountRecord, task: TaskRequest) -> None:
    """A call task an event or an agent asked for (a hardship review, a callback). Not a
    contact the core decided: it carries no basis to check, is never given up, and is not
    recorded in the account's contacts, so the caps do not count it."""
    record.call_tasks_asked = True
    await workflow.execute_activity_method(
        CallTaskActivities.create_call_task,
        CreateCallTaskInput(
            idempotency_key=contact_key(record.account_id, record.episode_id, task.stage_id),
            account_id=record.account_id,
            stage_id=task.stage_id,
            queue=task.queue,
            priority=task.priority,
            due_at=task.due_at,
            facts=facts_for(record, task.stage_id, "requested"),
        ),
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=ACTIVITY_RETRY,
        summary=f"{task.stage_id}: task for the {task.queue.value} queue",
    )

"""OverdueAccountWorkflow: one long-lived process per overdue account.

The workflow is an imperative shell around the pure core (`workflows.decisions`,
`workflows.account`): apply events to the record, ask the core what is next, wait for that time
or for the next event, act through an activity, record, repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from activities.call_tasks import CallTaskActivities
    from activities.notify import NotifyActivities
    from activities.sms import SmsActivities
    from workflows import account as acct
    from workflows import search_attributes as sa
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
        anchor_time,
        apply_transition,
        begin_stage,
        contact_key,
        days_past_due,
        finish_stage,
        next_step,
        settle,
    )
    from workflows.policy import CallQueue, Channel, Stage
    from workflows.task_queues import SMS_TASK_QUEUE
    from workflows.types import (
        CONTACT_WITHHELD,
        AccountOutcome,
        AccountRecord,
        AccountStatus,
        CallOutcome,
        CancelCallTasksInput,
        ContactCeased,
        ContactEntry,
        CreateCallTaskInput,
        DecisionBasis,
        DisputeClosed,
        DisputeOpened,
        Escalation,
        HardshipDecision,
        HardshipReported,
        NextAction,
        NotifyInput,
        OverdueAccountInput,
        OverdueAmountReported,
        PauseRequest,
        PaymentReported,
        PromiseToPay,
        ResumeRequest,
        SendSmsInput,
        SmsConsentChanged,
        SmsFailure,
        TaskRequest,
    )

GIVE_UP_CONTACTS_ON_RESOLUTION = "give-up-contacts-on-resolution"
# Call tasks given up too, and every contact given up only once its attempt under way has ended.
# One id for both: each patch id costs every workflow a billed TemporalChangeVersion upsert.
GIVE_UP_AFTER_THE_ATTEMPT = "give-up-after-the-attempt-under-way"
ANCHOR_AT_EXECUTION_START = "anchor-at-execution-start"
WAIT_FOR_THE_ATTEMPT = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
# How long to wait for a payment an activity withheld a contact for. Its signal reaches the
# workflow before the activity's answer, so this is a bound for the unexpected, not a delay.
WITHHELD_WAIT = timedelta(minutes=1)
ACTIVITY_TIMEOUT = timedelta(seconds=30)
# Transient failures (database restart, provider outage) retry for as long as it takes; the
# ledger's idempotency key makes every retry safe. Permanent ones are non-retryable errors.
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)


def _is_withheld(err: ActivityError) -> bool:
    return isinstance(err.cause, ApplicationError) and err.cause.type == CONTACT_WITHHELD


def _rejecting(error: acct.RequestRejected) -> ApplicationError:
    return ApplicationError(str(error), type="RequestRejected", non_retryable=True)


@workflow.defn
class OverdueAccountWorkflow:
    @workflow.init
    def __init__(self, input: OverdueAccountInput) -> None:
        self._input = input
        self._record: AccountRecord = input.carried or AccountRecord(
            account_id=input.account_id,
            product=input.product,
            currency=input.currency,
            due_date=input.due_date,
            time_zone=input.time_zone,
            jurisdiction=input.jurisdiction,
            risk_segment=input.risk_segment,
            vulnerable=input.vulnerable,
            policy=input.policy,
            episode_id=workflow.info().first_execution_run_id,
            anchor_at=anchor_time(
                input.policy, input.due_date, input.time_zone, self._process_start(input)
            ),
            balance_minor=input.amount_due_minor,
        )
        self._next: NextAction | None = None
        self._changed = False
        self._published: dict[str, Any] = {}
        # Stages whose withheld contact's payment never arrived: sent without the check.
        self._ungated: set[str] = set()

    @staticmethod
    def _process_start(input: OverdueAccountInput) -> datetime:
        """When the process started, for policies that count from it: the execution's start,
        not its first task's, which a worker outage or backlog delays (and every stage with
        it). Only such policies ask, so the others' histories carry no marker."""
        info = workflow.info()
        if input.policy.anchor == "process_start" and workflow.patched(ANCHOR_AT_EXECUTION_START):
            return info.workflow_start_time
        return info.start_time

    @workflow.run
    async def run(self, input: OverdueAccountInput) -> AccountOutcome:
        record = self._record
        while True:
            await self._drain_outbox()
            step = next_step(record, workflow.now())
            if isinstance(step, Finished):
                break
            if isinstance(step, Act | Suppress | PassOver):
                stage = settle(record, step)
                if stage is not None:
                    await self._act(stage)
            elif isinstance(step, RemindInstalment):
                await self._remind_instalment(step.index)
            elif isinstance(step, BreakPromise | BreakPlan | PlanCompleted):
                apply_transition(record, step, workflow.now())
            else:
                if self._should_continue_as_new():
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    workflow.continue_as_new(input.model_copy(update={"carried": record}))
                await self._wait(step)

        await workflow.wait_condition(workflow.all_handlers_finished)
        self._next = None
        await self._cancel_open_tasks("account resolved" if record.balance_minor == 0 else "closed")
        self._publish()
        return AccountOutcome(
            account_id=record.account_id,
            state=record.state,
            balance_minor=record.balance_minor,
            stages_done=self._done(),
        )

    # --- events from backends: signals, durable and idempotent ----------------------------

    @workflow.signal
    def report_payment(self, payment: PaymentReported) -> None:
        """A payment; replaying the same payment_id changes nothing."""
        self._changed |= acct.apply_payment(self._record, payment)

    @workflow.signal
    def report_overdue_amount(self, bill: OverdueAmountReported) -> None:
        """A new unpaid bill adds to the balance; replaying the same bill_id changes nothing."""
        self._changed |= acct.apply_new_bill(self._record, bill)

    @workflow.signal
    def report_hardship(self, report: HardshipReported) -> None:
        self._changed |= acct.apply_hardship_report(self._record, report, workflow.now())

    @workflow.signal
    def open_dispute(self, dispute: DisputeOpened) -> None:
        self._changed |= acct.apply_dispute_opened(self._record, dispute)

    @workflow.signal
    def close_dispute(self, dispute: DisputeClosed) -> None:
        self._changed |= acct.apply_dispute_closed(self._record, dispute)

    @workflow.signal
    def cease_contact(self, request: ContactCeased) -> None:
        self._changed |= acct.apply_cease_contact(self._record, request)

    @workflow.signal
    def sms_consent_changed(self, change: SmsConsentChanged) -> None:
        self._changed |= acct.apply_sms_consent(self._record, change)

    @workflow.signal
    def pause_by_ops(self, request: PauseRequest) -> None:
        """Pause from a batch operation; ignored (and noted) when already paused."""
        try:
            acct.validate_pause(self._record, request)
        except acct.RequestRejected as err:
            self._record.note(f"pause by {request.actor} ignored: {err}")
            return
        acct.apply_pause(self._record, request, workflow.now())
        self._changed = True

    @workflow.signal
    def resume_by_ops(self, request: ResumeRequest) -> None:
        try:
            acct.validate_resume(self._record, request)
        except acct.RequestRejected as err:
            self._record.note(f"resume by {request.actor} ignored: {err}")
            return
        acct.apply_resume(self._record, request)
        self._changed = True

    # --- requests from agents: updates, validated then answered with the new status ------

    @workflow.update
    def record_call_outcome(self, outcome: CallOutcome) -> AccountStatus:
        acct.apply_call_outcome(self._record, outcome, workflow.now())
        return self._answer()

    @record_call_outcome.validator
    def _validate_call_outcome(self, outcome: CallOutcome) -> None:
        self._validate(acct.validate_call_outcome, outcome, workflow.now())

    @workflow.update
    def promise_to_pay(self, promise: PromiseToPay) -> AccountStatus:
        acct.apply_promise(self._record, promise, workflow.now())
        return self._answer()

    @promise_to_pay.validator
    def _validate_promise(self, promise: PromiseToPay) -> None:
        self._validate(acct.validate_promise, promise, workflow.now())

    @workflow.update
    def decide_hardship(self, decision: HardshipDecision) -> AccountStatus:
        acct.apply_hardship_decision(self._record, decision, workflow.now())
        return self._answer()

    @decide_hardship.validator
    def _validate_hardship(self, decision: HardshipDecision) -> None:
        self._validate(acct.validate_hardship_decision, decision, workflow.now())

    @workflow.update
    def escalate(self, escalation: Escalation) -> AccountStatus:
        acct.apply_escalation(self._record, escalation, workflow.now())
        return self._answer()

    @escalate.validator
    def _validate_escalation(self, escalation: Escalation) -> None:
        self._validate(acct.validate_escalation, escalation)

    @workflow.update
    def pause(self, request: PauseRequest) -> AccountStatus:
        acct.apply_pause(self._record, request, workflow.now())
        return self._answer()

    @pause.validator
    def _validate_pause(self, request: PauseRequest) -> None:
        self._validate(acct.validate_pause, request)

    @workflow.update
    def resume(self, request: ResumeRequest) -> AccountStatus:
        acct.apply_resume(self._record, request)
        return self._answer()

    @resume.validator
    def _validate_resume(self, request: ResumeRequest) -> None:
        self._validate(acct.validate_resume, request)

    @workflow.query
    def status(self) -> AccountStatus:
        record = self._record
        return AccountStatus(
            account_id=record.account_id,
            state=record.state,
            stage=record.last_stage,
            balance_minor=record.balance_minor,
            currency=record.currency,
            due_date=record.due_date,
            time_zone=record.time_zone,
            days_past_due=self._days_past_due(),
            as_of=workflow.now(),
            next_action=self._next,
            stages_done=self._done(),
            stages_skipped=list(record.skipped),
            stages_suppressed=list(record.suppressed),
            promise=record.promise,
            plan=record.plan,
            pause=record.pause,
            open_disputes=list(record.open_disputes),
            escalated=record.escalated,
            sms_opted_out=record.sms_opted_out,
            contact_ceased=record.contact_ceased,
            recent_contacts=list(reversed(record.contacts[-10:])),
            notes=list(reversed(record.history[-10:])),
            policy_id=record.policy.id,
            policy_version=record.policy.version,
        )

    # --- internals -----------------------------------------------------------------------

    def _validate(self, check: Any, *args: Any) -> None:
        try:
            check(self._record, *args)
        except acct.RequestRejected as err:
            raise _rejecting(err) from None

    def _answer(self) -> AccountStatus:
        self._changed = True
        return self.status()

    def _done(self) -> list[str]:
        return [s for s in self._record.handled if self._record.attempts.get(s)]

    def _days_past_due(self) -> int:
        return days_past_due(self._record.due_date, self._record.time_zone, workflow.now())

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._input.history_event_bound
        )

    async def _wait(self, step: WaitUntil | WaitForEvents) -> None:
        if isinstance(step, WaitUntil):
            self._next = NextAction(
                stage_id=step.stage.id if step.stage else "", label=step.label, at=step.at
            )
            timeout: timedelta | None = max(step.at - workflow.now(), timedelta(0))
        else:
            self._next = None
            timeout = None
        self._publish()
        self._changed = False
        try:
            await workflow.wait_condition(
                lambda: self._changed or bool(self._record.outbox),
                timeout=timeout,
                timeout_summary=step.label if isinstance(step, WaitUntil) else None,
            )
        except TimeoutError:
            pass  # the time has come; the loop re-evaluates

    async def _act(self, stage: Stage) -> None:
        record = self._record
        key = begin_stage(record, stage)
        if stage.channel is Channel.SMS:
            assert stage.template is not None
            if not await self._send_sms(stage.id, stage.template, key, stage.label):
                return  # withheld: the stage is decided again
        elif stage.channel is Channel.CALL_TASK:
            assert stage.queue is not None
            created = await self._create_call_task(
                key, stage.id, record.call_queue(stage.queue), stage.priority, stage.label
            )
            if not created:
                return
        else:
            assert stage.kind is not None
            notice = NotifyInput(
                idempotency_key=key,
                account_id=record.account_id,
                stage_id=stage.id,
                kind=stage.kind,
                template_id=stage.template,
                amount_minor=record.balance_minor,
                currency=record.currency,
                days_past_due=self._days_past_due(),
                basis=self._basis(stage.id),
            )
            known = len(record.payments_seen)
            try:
                notified = await self._unless_resolved(
                    workflow.execute_activity_method(
                        NotifyActivities.send_notification,
                        notice,
                        start_to_close_timeout=ACTIVITY_TIMEOUT,
                        retry_policy=ACTIVITY_RETRY,
                        cancellation_type=self._give_up_mode(),
                        summary=f"{stage.label}: notify the backend",
                    ),
                    stage.id,
                )
            except ActivityError as err:
                if _is_withheld(err):
                    await self._after_withheld(stage.id, known)
                    return
                self._note_refusal(stage.id, "notify", err)
            else:
                if not notified:
                    return
                record.record_contact(
                    ContactEntry(
                        channel="notify", stage_id=stage.id, at=workflow.now(), outcome="sent"
                    )
                )
        finish_stage(record, stage)

    async def _unless_resolved(
        self, contact: Awaitable[Any], stage_id: str, patch: str = GIVE_UP_CONTACTS_ON_RESOLUTION
    ) -> bool:
        """Await a contact activity, but give it up if the account resolves meanwhile: an SMS
        still retrying through a provider outage must not reach a customer who has paid.
        Returns whether the contact completed."""
        if not workflow.patched(patch):
            await contact
            return True
        task = asyncio.ensure_future(contact)
        await workflow.wait_condition(lambda: task.done() or self._record.finished)
        if task.done():
            task.result()  # raises the activity's error, as awaiting it would
            return True
        task.cancel()  # a retrying activity is not retried again
        try:
            await task  # TRY_CANCEL: at once; WAIT_CANCELLATION_COMPLETED: the attempt's end
        except (asyncio.CancelledError, ActivityError):
            self._record.note(f"{stage_id}: contact given up, the account resolved meanwhile")
            return False
        return True  # the attempt under way completed the contact after all

    @staticmethod
    def _give_up_mode() -> ActivityCancellationType:
        """A contact given up on resolution ends once its attempt under way has: nothing it
        does lands after the process has closed, or after its call tasks were cancelled."""
        if workflow.patched(GIVE_UP_AFTER_THE_ATTEMPT):
            return WAIT_FOR_THE_ATTEMPT
        return ActivityCancellationType.TRY_CANCEL

    def _basis(self, stage_id: str) -> DecisionBasis | None:
        """What this decision knew, for the activity to check again just before it sends."""
        if stage_id in self._ungated:
            return None
        return DecisionBasis(
            payments_known=list(self._record.payments_seen),
            since=workflow.info().workflow_start_time,
        )

    async def _after_withheld(self, stage_id: str, known: int) -> None:
        """The activity sent nothing: a payment came after the decision. Once the workflow has
        that payment, the loop decides again (resolved: nothing more; partly paid: the stage
        acts again, with the new balance)."""
        record = self._record
        record.note(f"{stage_id}: contact withheld, a payment arrived after the decision")
        if len(record.payments_seen) > known:
            return
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: len(record.payments_seen) > known,
                timeout=WITHHELD_WAIT,
                timeout_summary=f"{stage_id}: wait for the payment the contact was withheld for",
            )
        if len(record.payments_seen) <= known:
            # A payment the workflow does not receive (another currency, another process):
            # not one to wait for; the stage's next attempt goes without the check.
            record.note(f"{stage_id}: the withheld-for payment never arrived; sending anyway")
            self._ungated.add(stage_id)

    def _note_refusal(self, stage_id: str, channel: str, err: ActivityError) -> None:
        """A permanent refusal (the activity said: don't retry) must not fail the account's
        whole process: it is noted, the ledger has the details, and the process goes on."""
        cause = err.cause
        if not isinstance(cause, ApplicationError) or not cause.non_retryable:
            raise err
        self._record.note(f"{stage_id}: {channel} refused ({cause.type})")

    async def _send_sms(self, stage_id: str, template_id: str, key: str, label: str) -> bool:
        """False when the activity withheld the message (decide again); True otherwise, sent,
        refused or given up."""
        record = self._record
        known = len(record.payments_seen)
        try:
            sending = workflow.execute_activity_method(
                SmsActivities.send_sms,
                SendSmsInput(
                    idempotency_key=key,
                    account_id=record.account_id,
                    stage_id=stage_id,
                    template_id=template_id,
                    templates=record.policy.templates[template_id],
                    default_locale=record.policy.default_locale,
                    amount_minor=record.balance_minor,
                    currency=record.currency,
                    due_date=record.due_date,
                    days_past_due=self._days_past_due(),
                    basis=self._basis(stage_id),
                ),
                task_queue=SMS_TASK_QUEUE,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
                cancellation_type=self._give_up_mode(),
                summary=f"{label}: send SMS",
            )
            if not await self._unless_resolved(sending, stage_id):
                return True
        except ActivityError as err:
            failure = err.cause.type if isinstance(err.cause, ApplicationError) else None
            if failure == CONTACT_WITHHELD:
                await self._after_withheld(stage_id, known)
                return False
            if failure == SmsFailure.RECIPIENT_OPTED_OUT:
                record.sms_opted_out = True
                record.note(f"{stage_id}: recipient opted out at the provider")
            elif failure == SmsFailure.UNREACHABLE_NUMBER:
                # Not a mobile or not valid for SMS: an agent tries by phone instead.
                record.sms_unreachable = True
                record.note(f"{stage_id}: number cannot receive SMS; call task instead")
                await self._create_call_task(
                    contact_key(record.account_id, record.episode_id, f"{stage_id}_fallback"),
                    f"{stage_id}_fallback",
                    record.call_queue(CallQueue.GENERAL),
                    50,
                    f"{label}: SMS undeliverable",
                )
            else:
                self._note_refusal(stage_id, "sms", err)
            return True
        record.record_contact(
            ContactEntry(channel="sms", stage_id=stage_id, at=workflow.now(), outcome="sent")
        )
        return True

    async def _create_call_task(
        self, key: str, stage_id: str, queue: CallQueue, priority: int, label: str
    ) -> bool:
        """False when the activity withheld the task (decide again); True otherwise."""
        record = self._record
        known = len(record.payments_seen)
        creating = workflow.execute_activity_method(
            CallTaskActivities.create_call_task,
            CreateCallTaskInput(
                idempotency_key=key,
                account_id=record.account_id,
                stage_id=stage_id,
                queue=queue,
                priority=priority,
                due_at=workflow.now(),
                basis=self._basis(stage_id),
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
            # Given up on resolution, an attempt under way ends before the open tasks are
            # cancelled, so the task it may still create is cancelled too.
            cancellation_type=WAIT_FOR_THE_ATTEMPT,
            summary=f"{label}: call task for the {queue.value} queue",
        )
        try:
            if not await self._unless_resolved(creating, stage_id, GIVE_UP_AFTER_THE_ATTEMPT):
                return True
        except ActivityError as err:
            if not _is_withheld(err):
                raise
            await self._after_withheld(stage_id, known)
            return False
        record.record_contact(
            ContactEntry(
                channel="call", stage_id=stage_id, at=workflow.now(), outcome="task_created"
            )
        )
        return True

    async def _drain_outbox(self) -> None:
        record = self._record
        if record.cancel_open_tasks:
            record.cancel_open_tasks = False
            if not record.finished:
                await self._cancel_open_tasks("contact stopped")
        while record.outbox and not record.finished:
            task: TaskRequest = record.outbox.pop(0)
            await workflow.execute_activity_method(
                CallTaskActivities.create_call_task,
                CreateCallTaskInput(
                    idempotency_key=contact_key(
                        record.account_id, record.episode_id, task.stage_id
                    ),
                    account_id=record.account_id,
                    stage_id=task.stage_id,
                    queue=task.queue,
                    priority=task.priority,
                    due_at=task.due_at,
                ),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
                summary=f"{task.stage_id}: task for the {task.queue.value} queue",
            )

    async def _remind_instalment(self, index: int) -> None:
        record = self._record
        assert record.plan is not None
        template = record.policy.hardship.reminder_template
        assert template is not None
        # Counted as reminded even when withheld: the payment that withheld it is most likely
        # the instalment, and the key has no attempt number to send again with.
        record.plan.reminded.append(index)
        stage_id = f"plan_instalment_{index + 1}"
        key = contact_key(record.account_id, record.episode_id, stage_id)
        await self._send_sms(stage_id, template, key, f"Instalment {index + 1} reminder")

    async def _cancel_open_tasks(self, reason: str) -> None:
        await workflow.execute_activity_method(
            CallTaskActivities.cancel_open_call_tasks,
            CancelCallTasksInput(account_id=self._record.account_id, reason=reason),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
            summary=f"Cancel open call tasks: {reason}",
        )

    def _publish(self) -> None:
        """Upsert search attributes, only those whose value changed (each upsert is billed)."""
        record = self._record
        wanted: dict[str, Any] = {
            sa.OVERDUE_STATE.name: record.state.value,
            sa.OVERDUE_STAGE.name: record.last_stage or "",
            sa.DAYS_PAST_DUE.name: self._days_past_due(),
            sa.AMOUNT_DUE_MINOR.name: record.balance_minor,
            sa.NEXT_ACTION_AT.name: self._next.at if self._next else None,
            sa.PRODUCT.name: record.product,
        }
        changed = {k: v for k, v in wanted.items() if self._published.get(k, ...) != v}
        if not changed:
            return
        updates = [
            key.value_unset() if changed[key.name] is None else key.value_set(changed[key.name])
            for key in sa.ALL
            if key.name in changed
        ]
        workflow.upsert_search_attributes(updates)
        self._published.update(changed)

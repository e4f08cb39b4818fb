"""OverdueAccountWorkflow: one long-lived process per overdue account.

The workflow is an imperative shell around the pure core (`workflows.decisions`,
`workflows.account`): apply events to the record, ask the core what is next, wait for that time
or for the next event, act through a contact attempt (`workflows.contact_attempt`), record,
repeat. Its patch ids, and when each can go, are in `workflows.patches`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.call_tasks import CallTaskActivities
    from activities.event_audit import EventAuditActivities
    from workflows import account as acct
    from workflows import acting, event_audit, handlers
    from workflows import search_attributes as sa
    from workflows.acting import Reminder, StageContact
    from workflows.contact_attempt import (
        ACTIVITY_RETRY,
        ACTIVITY_TIMEOUT,
        create_call_task,
        create_requested_task,
        send_notice,
        send_sms,
    )
    from workflows.contact_types import CancelCallTasksInput
    from workflows.decisions import (
        Finished,
        WaitForEvents,
        WaitUntil,
        days_past_due,
        next_step,
    )
    from workflows.handlers import Signal, Update
    from workflows.patches import ANCHOR_AT_EXECUTION_START, AUDIT_RECEIVED_EVENTS
    from workflows.types import (
        AccountOutcome,
        AccountRecord,
        AccountStatus,
        CallOutcome,
        ContactCeased,
        DisputeClosed,
        DisputeOpened,
        Escalation,
        HardshipDecision,
        HardshipReported,
        NextAction,
        OverdueAccountInput,
        OverdueAmountReported,
        PauseRequest,
        PaymentReported,
        PromiseToPay,
        ResumeRequest,
        SmsConsentChanged,
    )


def _rejecting(error: acct.RequestRejected) -> ApplicationError:
    return ApplicationError(str(error), type="RequestRejected", non_retryable=True)


@workflow.defn
class OverdueAccountWorkflow:
    @workflow.init
    def __init__(self, input: OverdueAccountInput) -> None:
        self._input = input
        # `or` keeps a carried record from asking when the process started (a marker).
        self._record: AccountRecord = input.carried or acting.new_record(
            input, workflow.info().first_execution_run_id, self._process_start(input)
        )
        self._next: NextAction | None = None
        self._changed = False
        self._published: dict[str, Any] = {}
        # Events new to this run, for the audit trail (see workflows.event_audit).
        self._unaudited: list[event_audit.ReceivedEvent] = []

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
            await self._do_chores()
            now = workflow.now()
            action = acting.prepare(record, next_step(record, now), now)
            if isinstance(action, Finished):
                break
            if isinstance(action, StageContact):
                await self._contact(action)
            elif isinstance(action, Reminder):
                await self._remind(action)
            elif isinstance(action, WaitUntil | WaitForEvents):
                if self._should_continue_as_new():
                    await self._settle()
                    workflow.continue_as_new(input.model_copy(update={"carried": record}))
                await self._wait(action)

        await self._settle()
        self._next = None
        await self._cancel_open_tasks(acting.closing_reason(record))
        self._publish()
        return AccountOutcome(
            account_id=record.account_id,
            state=record.state,
            balance_minor=record.balance_minor,
            stages_done=self._done(),
        )

    # --- events from backends: signals, durable and idempotent ----------------------------
    # Each applies its entry in `workflows.handlers`, the table the simulator shares.

    @workflow.signal
    def report_payment(self, payment: PaymentReported) -> None:
        """A payment; replaying the same payment_id changes nothing."""
        self._receive(handlers.REPORT_PAYMENT, payment)

    @workflow.signal
    def report_overdue_amount(self, bill: OverdueAmountReported) -> None:
        """A new unpaid bill adds to the balance; replaying the same bill_id changes nothing."""
        self._receive(handlers.REPORT_OVERDUE_AMOUNT, bill)

    @workflow.signal
    def report_hardship(self, report: HardshipReported) -> None:
        self._receive(handlers.REPORT_HARDSHIP, report)

    @workflow.signal
    def open_dispute(self, dispute: DisputeOpened) -> None:
        self._receive(handlers.OPEN_DISPUTE, dispute)

    @workflow.signal
    def close_dispute(self, dispute: DisputeClosed) -> None:
        self._receive(handlers.CLOSE_DISPUTE, dispute)

    @workflow.signal
    def cease_contact(self, request: ContactCeased) -> None:
        self._receive(handlers.CEASE_CONTACT, request)

    @workflow.signal
    def sms_consent_changed(self, change: SmsConsentChanged) -> None:
        self._receive(handlers.SMS_CONSENT_CHANGED, change)

    @workflow.signal
    def pause_by_ops(self, request: PauseRequest) -> None:
        """Pause from a batch operation; ignored (and noted) when already paused."""
        self._receive(handlers.PAUSE_BY_OPS, request)

    @workflow.signal
    def resume_by_ops(self, request: ResumeRequest) -> None:
        self._receive(handlers.RESUME_BY_OPS, request)

    # --- requests from agents: updates, validated then answered with the new status ------

    @workflow.update
    def record_call_outcome(self, outcome: CallOutcome) -> AccountStatus:
        return self._apply(handlers.RECORD_CALL_OUTCOME, outcome)

    @record_call_outcome.validator
    def _validate_call_outcome(self, outcome: CallOutcome) -> None:
        self._check(handlers.RECORD_CALL_OUTCOME, outcome)

    @workflow.update
    def promise_to_pay(self, promise: PromiseToPay) -> AccountStatus:
        return self._apply(handlers.PROMISE_TO_PAY, promise)

    @promise_to_pay.validator
    def _validate_promise(self, promise: PromiseToPay) -> None:
        self._check(handlers.PROMISE_TO_PAY, promise)

    @workflow.update
    def decide_hardship(self, decision: HardshipDecision) -> AccountStatus:
        return self._apply(handlers.DECIDE_HARDSHIP, decision)

    @decide_hardship.validator
    def _validate_hardship(self, decision: HardshipDecision) -> None:
        self._check(handlers.DECIDE_HARDSHIP, decision)

    @workflow.update
    def escalate(self, escalation: Escalation) -> AccountStatus:
        return self._apply(handlers.ESCALATE, escalation)

    @escalate.validator
    def _validate_escalation(self, escalation: Escalation) -> None:
        self._check(handlers.ESCALATE, escalation)

    @workflow.update
    def pause(self, request: PauseRequest) -> AccountStatus:
        return self._apply(handlers.PAUSE, request)

    @pause.validator
    def _validate_pause(self, request: PauseRequest) -> None:
        self._check(handlers.PAUSE, request)

    @workflow.update
    def resume(self, request: ResumeRequest) -> AccountStatus:
        return self._apply(handlers.RESUME, request)

    @resume.validator
    def _validate_resume(self, request: ResumeRequest) -> None:
        self._check(handlers.RESUME, request)

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

    def _receive(self, signal: Signal[Any], payload: Any) -> None:
        changed = signal.apply(self._record, payload, workflow.now())
        self._changed |= changed
        if changed and (event := event_audit.received(payload)) is not None:
            self._unaudited.append(event)

    async def _settle(self) -> None:
        """Before the run ends: every handler done, every event it received recorded."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        while self._unaudited:
            await self._audit_received_events()
            await workflow.wait_condition(workflow.all_handlers_finished)

    async def _audit_received_events(self) -> None:
        """Record the events new to the workflow that reached it without the API (the
        activity leaves those the API recorded alone): one activity for all waiting."""
        if not self._unaudited:
            return
        events, self._unaudited = self._unaudited, []
        if not workflow.patched(AUDIT_RECEIVED_EVENTS):
            return  # a history from before: it recorded nothing here
        await workflow.execute_activity_method(
            EventAuditActivities.record_received_events,
            event_audit.RecordEventsInput(account_id=self._record.account_id, events=events),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
            summary="Audit: " + ", ".join(f"{e.kind} {e.event_id}" for e in events)[:200],
        )

    def _check(self, update: Update[Any], payload: Any) -> None:
        try:
            update.validate(self._record, payload, workflow.now())
        except acct.RequestRejected as err:
            raise _rejecting(err) from None

    def _apply(self, update: Update[Any], payload: Any) -> AccountStatus:
        update.apply(self._record, payload, workflow.now())
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
        self._next = acting.next_action(step)
        timeout: timedelta | None = None
        if isinstance(step, WaitUntil):
            timeout = max(step.at - workflow.now(), timedelta(0))
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

    async def _contact(self, contact: StageContact) -> None:
        record, stage = self._record, contact.stage
        if contact.channel == "sms":
            assert stage.template is not None
            done = await send_sms(record, stage.id, stage.template, contact.key, stage.label)
        elif contact.channel == "call":
            assert contact.queue is not None
            done = await create_call_task(
                record, contact.key, stage.id, contact.queue, stage.priority, stage.label
            )
        else:
            done = await send_notice(record, stage, contact.key)
        if done:  # withheld: the stage is decided again (a notice given up stays open too)
            acting.finish(record, contact)

    async def _remind(self, reminder: Reminder) -> None:
        await send_sms(
            self._record, reminder.stage_id, reminder.template, reminder.key, reminder.label
        )

    async def _do_chores(self) -> None:
        """What events left to do: cancel open call tasks, create the tasks they asked for."""
        record = self._record
        await self._audit_received_events()
        reason = acting.take_cancel(record)
        if reason is not None:
            await self._cancel_open_tasks(reason)
        while (task := acting.next_requested_task(record)) is not None:
            await create_requested_task(record, task)

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

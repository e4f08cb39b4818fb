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
    from workflows import account as acct
    from workflows import search_attributes as sa
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
    from workflows.patches import ANCHOR_AT_EXECUTION_START
    from workflows.policy import Channel, Stage
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
            done = await send_sms(record, stage.id, stage.template, key, stage.label)
        elif stage.channel is Channel.CALL_TASK:
            assert stage.queue is not None
            queue = record.call_queue(stage.queue)
            done = await create_call_task(record, key, stage.id, queue, stage.priority, stage.label)
        else:
            done = await send_notice(record, stage, key)
        if done:  # withheld: the stage is decided again (a notice given up stays open too)
            finish_stage(record, stage)

    async def _drain_outbox(self) -> None:
        record = self._record
        if record.cancel_open_tasks:
            record.cancel_open_tasks = False
            if not record.finished:
                await self._cancel_open_tasks("contact stopped")
        while record.outbox and not record.finished:
            await create_requested_task(record, record.outbox.pop(0))

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
        await send_sms(record, stage_id, template, key, f"Instalment {index + 1} reminder")

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

"""The account workflow's own events and requests: backends' signals (payments, bills,
hardship, disputes, cease-contact, consent, ops' pause and resume), agents' updates (call
outcomes, promises, hardship decisions, escalations, pauses) and the `status` query.

A base class of `OverdueAccountWorkflow` (through `workflows.account_process`), imported
passed through like the other handler mixins (`workflows.account_handlers`): the sandbox then
loads these methods once per worker, not once per workflow instance. Each applies its entry in
`workflows.handlers`, the table the simulator shares; signals are durable and idempotent,
updates are validated, then answered with the new status.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.handlers as handlers
    from workflows.handlers import Signal, Update
    from workflows.status import account_status
    from workflows.types import (
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
        OverdueAmountReported,
        Parked,
        PauseRequest,
        PaymentReported,
        PromiseToPay,
        ResumeRequest,
        SmsConsentChanged,
    )


class EventHandlers:
    _record: AccountRecord  # the workflow's, and what follows
    _next: NextAction | None
    _parked: Parked | None
    _retry: bool

    def _receive(self, signal: Signal[Any], payload: Any) -> None:
        raise NotImplementedError  # the workflow's

    def _check(self, update: Update[Any], payload: Any) -> None:
        raise NotImplementedError  # the workflow's

    def _apply(self, update: Update[Any], payload: Any) -> AccountStatus:
        raise NotImplementedError  # the workflow's

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
        """Resume a pause from a batch operation; or, while parked, try again (a pause, if
        any, then needs another resume)."""
        if self._parked is not None:
            self._record.note(f"parked process resumed by {request.actor}")
            self._retry = True
            return
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
        return account_status(self._record, workflow.now(), self._next, self._parked)

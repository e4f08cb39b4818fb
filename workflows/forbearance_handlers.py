"""The account workflow's forbearance handlers, kept apart from `overdue_account.py`.

`OverdueAccountWorkflow` inherits them: `request_forbearance` (a signal: the borrower's
self-service page or a backend asks), `decide_forbearance` (an update: an agent grants a
settlement, a freeze or a holiday within the policy's limits, or turns a request down),
`end_forbearance` (an update: a running holiday or freeze ends now), and the chore that
reports a write-down, a freeze or a freeze's end to the backend (`send_forbearance_notices`).
Rules in `workflows.forbearance` and `workflows.forbearance_end`; old histories carry none of
these.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notify import NotifyActivities
    from workflows import forbearance, handlers
    from workflows.contact_attempt import ACTIVITY_RETRY, ACTIVITY_TIMEOUT
    from workflows.contact_facts import facts_for
    from workflows.contact_types import NotifyInput
    from workflows.decisions import contact_key, days_past_due
    from workflows.forbearance_types import (
        ForbearanceDecision,
        ForbearanceEnd,
        ForbearanceNotice,
        ForbearanceRequested,
    )
    from workflows.handlers import Signal, Update
    from workflows.types import AccountRecord, AccountStatus


class ForbearanceHandlers:
    _record: AccountRecord  # the workflow's

    @workflow.signal
    def request_forbearance(self, request: ForbearanceRequested) -> None:
        """A borrower asks for a settlement, a freeze or a holiday: a review task, once."""
        self._receive(handlers.REQUEST_FORBEARANCE, request)

    @workflow.update
    def decide_forbearance(self, decision: ForbearanceDecision) -> AccountStatus:
        return self._apply(handlers.DECIDE_FORBEARANCE, decision)

    @decide_forbearance.validator
    def _validate_forbearance(self, decision: ForbearanceDecision) -> None:
        self._check(handlers.DECIDE_FORBEARANCE, decision)

    @workflow.update
    def end_forbearance(self, end: ForbearanceEnd) -> AccountStatus:
        """A running payment holiday or freeze ends now (the borrower asks to resume, or it
        was granted by mistake); refused with the reason when none is running."""
        return self._apply(handlers.END_FORBEARANCE, end)

    @end_forbearance.validator
    def _validate_end(self, end: ForbearanceEnd) -> None:
        self._check(handlers.END_FORBEARANCE, end)

    async def send_forbearance_notices(self) -> None:
        """Report each write-down or freeze owed to the backend (the notify webhook), once:
        its ledger key is the notice's. No pre-send check: it is no contact with the borrower."""
        record = self._record
        while (notice := forbearance.take_notice(record)) is not None:
            outcome = "delivered"
            try:
                await workflow.execute_activity_method(
                    NotifyActivities.send_notification,
                    _notice_input(record, notice),
                    start_to_close_timeout=ACTIVITY_TIMEOUT,
                    retry_policy=ACTIVITY_RETRY,
                    summary=f"{notice.notice_id}: report {notice.kind.value} to the backend",
                )
            except ActivityError:  # refused for good (a non-retryable 4xx): noted, not retried
                outcome = "refused by the backend"
            forbearance.notice_sent(record, notice, outcome)

    # Defined by the workflow class.
    def _receive(self, signal: Signal[Any], payload: Any) -> None:
        raise NotImplementedError

    def _check(self, update: Update[Any], payload: Any) -> None:
        raise NotImplementedError

    def _apply(self, update: Update[Any], payload: Any) -> AccountStatus:
        raise NotImplementedError


def _notice_input(record: AccountRecord, notice: ForbearanceNotice) -> NotifyInput:
    return NotifyInput(
        idempotency_key=contact_key(record.account_id, record.episode_id, notice.notice_id),
        account_id=record.account_id,
        stage_id=notice.notice_id,
        kind=notice.kind,
        amount_minor=record.balance_minor,
        currency=record.currency,
        days_past_due=days_past_due(record.due_date, record.time_zone, workflow.now()),
        facts=facts_for(record, notice.notice_id, "requested"),
        write_down_minor=notice.amount_minor,
        until=notice.until,
    )

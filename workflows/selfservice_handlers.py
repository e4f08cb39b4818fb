"""The account workflow's update for borrowers' self-service requests (a repayment plan).

A base class of `OverdueAccountWorkflow`, kept apart so the workflow's own module stays small:
the update applies its entry in `workflows.handlers` through the workflow's `_check` and
`_apply`, like the workflow's other updates. Old histories never carry it. The API sends it
with the form's idempotency key as the update id, so a form sent twice is taken once.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import handlers
    from workflows.handlers import Update
    from workflows.selfservice_requests import PlanRequested
    from workflows.types import AccountStatus


class SelfServiceUpdates:
    def _check(self, update: Update[Any], payload: Any) -> None:
        raise NotImplementedError  # the workflow's

    def _apply(self, update: Update[Any], payload: Any) -> AccountStatus:
        raise NotImplementedError  # the workflow's

    @workflow.update
    def request_repayment_plan(self, request: PlanRequested) -> AccountStatus:
        """The borrower asks for a schedule: specialist review (`hardship_review`)."""
        return self._apply(handlers.REQUEST_REPAYMENT_PLAN, request)

    @request_repayment_plan.validator
    def _validate_plan_request(self, request: PlanRequested) -> None:
        self._check(handlers.REQUEST_REPAYMENT_PLAN, request)

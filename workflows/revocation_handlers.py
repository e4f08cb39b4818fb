"""The account workflow's revocation handlers, kept apart from `overdue_account.py`.

`OverdueAccountWorkflow` inherits them (the SDK collects handlers from base classes too); each
goes through the workflow's own `_receive` / `_check` / `_apply`, like every other handler, with
its entry of `workflows.handlers`.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import handlers
    from workflows.handlers import Signal, Update
    from workflows.types import AccountStatus, RevocationDecision, RevocationRequested


class RevocationHandlers:
    """`revocation_requested` (the inbound SMS webhook) and `decide_revocation` (an agent)."""

    @workflow.signal
    def revocation_requested(self, request: RevocationRequested) -> None:
        """A free-text reply asking to stop SMS: they stop at once, pending an agent."""
        self._receive(handlers.REVOCATION_REQUESTED, request)

    @workflow.update
    def decide_revocation(self, decision: RevocationDecision) -> AccountStatus:
        return self._apply(handlers.DECIDE_REVOCATION, decision)

    @decide_revocation.validator
    def _validate_revocation(self, decision: RevocationDecision) -> None:
        self._check(handlers.DECIDE_REVOCATION, decision)

    # Defined by the workflow class.
    def _receive(self, signal: Signal[Any], payload: Any) -> None:
        raise NotImplementedError

    def _check(self, update: Update[Any], payload: Any) -> None:
        raise NotImplementedError

    def _apply(self, update: Update[Any], payload: Any) -> AccountStatus:
        raise NotImplementedError

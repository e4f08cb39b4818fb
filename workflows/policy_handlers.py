"""The account workflow's policy move: an update ops send to move a running account to another
policy (version), and the query that previews it (workflows/policy_change.py).

A base class of `OverdueAccountWorkflow`, kept apart so the workflow's own module stays small.
Old histories never carry the update; a query is not recorded in a history at all.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.handlers as handlers
    import workflows.search_attributes as sa
    from workflows.handlers import Update
    from workflows.policy_change import PolicyChange
    from workflows.policy_preview import PolicyPreview, PolicyPreviewRequest, preview
    from workflows.types import AccountRecord, AccountStatus


class PolicyMoves:
    _record: AccountRecord  # the workflow's

    def _check(self, update: Update[Any], payload: Any) -> None:
        raise NotImplementedError  # the workflow's

    def _apply(self, update: Update[Any], payload: Any) -> AccountStatus:
        raise NotImplementedError  # the workflow's

    @workflow.update
    def adopt_policy(self, change: PolicyChange) -> AccountStatus:
        """Decide with `change.policy` from the next decision on (what was done stays done)."""
        status = self._apply(handlers.ADOPT_POLICY, change)
        # The start set `PolicyId` (ops filter on it, experiments report by it): keep it true.
        policy = change.policy
        value = sa.policy_id_value(policy.id, policy.version)
        workflow.upsert_search_attributes([sa.POLICY_ID.value_set(value)])
        return status

    @adopt_policy.validator
    def _validate_policy_change(self, change: PolicyChange) -> None:
        self._check(handlers.ADOPT_POLICY, change)

    @workflow.query
    def preview_policy(self, request: PolicyPreviewRequest) -> PolicyPreview:
        """The next contacts under the current and a proposed policy; changes nothing."""
        return preview(self._record, request, workflow.now())

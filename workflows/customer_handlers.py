"""The account workflow's updates about the customer (vulnerability, stated preferences).

A base class of `OverdueAccountWorkflow`, kept apart so the workflow's own module stays small:
each update applies its entry in `workflows.handlers` through the workflow's `_check` and
`_apply`, like the workflow's other updates. Old histories never carry these updates.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import handlers
    from workflows.handlers import Update
    from workflows.types import AccountStatus, ContactPreferences, VulnerabilityChange


class CustomerStateUpdates:
    def _check(self, update: Update[Any], payload: Any) -> None:
        raise NotImplementedError  # the workflow's

    def _apply(self, update: Update[Any], payload: Any) -> AccountStatus:
        raise NotImplementedError  # the workflow's

    @workflow.update
    def set_vulnerability(self, change: VulnerabilityChange) -> AccountStatus:
        """Mark the customer vulnerable (with a category) or clear it; treatment follows the
        policy's `vulnerable` section from the next decision on."""
        return self._apply(handlers.SET_VULNERABILITY, change)

    @set_vulnerability.validator
    def _validate_vulnerability(self, change: VulnerabilityChange) -> None:
        self._check(handlers.SET_VULNERABILITY, change)

    @workflow.update
    def set_contact_preferences(self, prefs: ContactPreferences) -> AccountStatus:
        """The customer's inconvenient times and refused channels, replacing earlier ones."""
        return self._apply(handlers.SET_CONTACT_PREFERENCES, prefs)

    @set_contact_preferences.validator
    def _validate_preferences(self, prefs: ContactPreferences) -> None:
        self._check(handlers.SET_CONTACT_PREFERENCES, prefs)

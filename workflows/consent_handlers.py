"""The account workflow's consent signal, kept apart from `overdue_account.py`.

`OverdueAccountWorkflow` inherits it (the SDK collects handlers from base classes too); it goes
through the workflow's own `_receive`, like every other signal, with its entry of
`workflows.handlers`. A signal, not an update: a withdrawal must reach the process durably even
while its workers are down (the pre-send check covers the moment until it is applied). Old
histories never carry it.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows import handlers
    from workflows.consent import ConsentChanged
    from workflows.handlers import Signal


class ConsentSignals:
    @workflow.signal
    def consent_changed(self, change: ConsentChanged) -> None:
        """A grant or a withdrawal of consent on one channel (recorded in `consent_events`)."""
        self._receive(handlers.CONSENT_CHANGED, change)

    def _receive(self, signal: Signal[Any], payload: Any) -> None:
        raise NotImplementedError  # the workflow's

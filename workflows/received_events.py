"""The workflow's side of auditing received events (`workflows.event_audit` says why): the
events new to this run wait here until the run loop hands them to one activity."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.event_audit import EventAuditActivities
    from workflows import event_audit
    from workflows.contact_attempt import ACTIVITY_RETRY, ACTIVITY_TIMEOUT
    from workflows.patches import AUDIT_RECEIVED_EVENTS, patched


class ReceivedEvents:
    def __init__(self, account_id: str) -> None:
        self._account_id = account_id
        self._waiting: list[event_audit.ReceivedEvent] = []

    def note(self, payload: BaseModel) -> None:
        """A signal's payload that changed the record: kept if the audit trail wants it."""
        if (event := event_audit.received(payload)) is not None:
            self._waiting.append(event)

    @property
    def waiting(self) -> bool:
        return bool(self._waiting)

    def take(self) -> list[event_audit.ReceivedEvent]:
        """The waiting events, for the closing activity to audit (`workflows.closing`)."""
        events, self._waiting = self._waiting, []
        return events

    async def record(self) -> None:
        """Record the waiting events that reached the workflow without the API (the activity
        leaves those the API recorded alone): one activity for all of them."""
        if not self._waiting:
            return
        events, self._waiting = self._waiting, []
        if not patched(AUDIT_RECEIVED_EVENTS):
            return  # a history from before: it recorded nothing here
        await workflow.execute_activity_method(
            EventAuditActivities.record_received_events,
            event_audit.RecordEventsInput(account_id=self._account_id, events=events),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
            summary="Audit: " + ", ".join(f"{e.kind} {e.event_id}" for e in events)[:200],
        )

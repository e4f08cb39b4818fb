"""The chaos checker's reading of a workflow's history: one account's continue-as-new chain
(every run, in order) reduced to what the checks need (bench/chaos_check.py): its input, the
payments as Temporal received them, the contact activities it scheduled and when each closed,
the workflow tasks that completed, and how it closed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from workflows.patches import ANCHOR_AT_EXECUTION_START, COST_2026_12
from workflows.types import OverdueAccountInput, PaymentReported

CONTACT_ACTIVITIES = frozenset({"send_sms", "create_call_task", "send_notification"})


@dataclass(frozen=True)
class ScheduledContact:
    index: int
    at: datetime
    activity: str
    stage_id: str
    key: str
    kind: str | None


@dataclass
class AccountHistory:
    """What one account's histories (all runs) say, in event order."""

    workflow_id: str
    first_run_id: str
    input: OverdueAccountInput
    started_at: datetime
    payments: list[tuple[int, datetime, PaymentReported]] = field(default_factory=list)
    contacts: list[ScheduledContact] = field(default_factory=list)
    # index of a contact's ActivityTaskScheduled -> index of the event that closed it
    contact_closed: dict[int, int] = field(default_factory=dict)
    # (index of WorkflowTaskStarted, its time) for tasks that completed
    completed_tasks: list[tuple[int, datetime]] = field(default_factory=list)
    closed_at: datetime | None = None
    close_type: str | None = None
    # The first workflow task's start: what workflow.info().start_time gives the workflow,
    # and so the anchor of a process_start policy before the anchor-at-execution-start patch.
    first_task_started_at: datetime | None = None
    anchors_at_execution_start: bool = False  # the patch's marker is in the history

    @property
    def anchor_source(self) -> datetime:
        # A process started on cost-2026-12 or later takes the patch as given, with no marker.
        if self.anchors_at_execution_start or self.input.release >= COST_2026_12:
            return self.started_at
        return self.first_task_started_at or self.started_at

    @property
    def account_id(self) -> str:
        return self.input.account_id

    def resolution(self) -> tuple[int, datetime] | None:
        """(index, time) of the payment signal that paid the balance in full, if any."""
        seen: set[str] = set()
        paid = 0
        for index, at, payment in self.payments:
            if payment.payment_id in seen:
                continue
            seen.add(payment.payment_id)
            paid += payment.amount_minor
            if paid >= self.input.amount_due_minor:
                return index, at
        return None


def _time(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=ZoneInfo("UTC"))


def _payload(payloads: Any) -> Any:
    return json.loads(payloads.payloads[0].data) if payloads.payloads else None


def parse_history(
    workflow_id: str, first_run_id: str, events: Iterable[HistoryEvent]
) -> AccountHistory:
    """Parse a chain's events (runs concatenated in order; indices count across runs)."""
    reader = _ChainReader(workflow_id, first_run_id)
    for index, event in enumerate(events):
        reader.read(index, event)
    assert reader.account is not None, f"no history for {workflow_id}"
    return reader.account


class _ChainReader:
    """The state of reading one chain, event by event."""

    def __init__(self, workflow_id: str, first_run_id: str) -> None:
        self.workflow_id = workflow_id
        self.first_run_id = first_run_id
        self.account: AccountHistory | None = None
        self.open_task: tuple[int, datetime] | None = None
        self.run = 0  # event ids restart with each run of the chain
        self.open_contacts: dict[tuple[int, int], int] = {}  # (run, event id) -> index

    def read(self, index: int, event: HistoryEvent) -> None:
        etype = event.event_type
        if etype in _ACTIVITY_CLOSED:
            self._activity_closed(index, event)
            return
        if etype == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            self._run_started(event)
            return
        account = self.account
        assert account is not None, "a history starts with WorkflowExecutionStarted"
        if etype == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            _payment_signalled(account, index, event)
        elif etype == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            self._activity_scheduled(account, index, event)
        elif etype == EventType.EVENT_TYPE_MARKER_RECORDED:
            if _marks_anchor_at_execution_start(event):
                account.anchors_at_execution_start = True
        elif etype == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            self.open_task = (index, _time(event))
            if account.first_task_started_at is None:
                account.first_task_started_at = self.open_task[1]
        elif etype == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            if self.open_task is not None:
                account.completed_tasks.append(self.open_task)
            self.open_task = None
        elif etype in _TASK_ENDED_WITHOUT_COMPLETING:
            self.open_task = None
        elif etype in _CLOSE_EVENTS:
            account.closed_at = _time(event)
            account.close_type = _CLOSE_EVENTS[etype]

    def _activity_closed(self, index: int, event: HistoryEvent) -> None:
        closed_id = getattr(event, _ACTIVITY_CLOSED[event.event_type]).scheduled_event_id
        opened = self.open_contacts.pop((self.run, closed_id), None)
        if opened is not None and self.account is not None:
            self.account.contact_closed[opened] = index

    def _run_started(self, event: HistoryEvent) -> None:
        # A continue-as-new starts the next run; the account is the first run's input.
        self.run += 1
        if self.account is None:
            attrs = event.workflow_execution_started_event_attributes
            self.account = AccountHistory(
                workflow_id=self.workflow_id,
                first_run_id=self.first_run_id,
                input=OverdueAccountInput.model_validate(_payload(attrs.input)),
                started_at=_time(event),
            )

    def _activity_scheduled(self, account: AccountHistory, index: int, event: HistoryEvent) -> None:
        scheduled = event.activity_task_scheduled_event_attributes
        name = scheduled.activity_type.name
        if name not in CONTACT_ACTIVITIES:
            return
        self.open_contacts[(self.run, event.event_id)] = index
        body = _payload(scheduled.input) or {}
        account.contacts.append(
            ScheduledContact(
                index,
                _time(event),
                name,
                body.get("stage_id", ""),
                body.get("idempotency_key", ""),
                body.get("kind"),
            )
        )


def _payment_signalled(account: AccountHistory, index: int, event: HistoryEvent) -> None:
    signaled = event.workflow_execution_signaled_event_attributes
    if signaled.signal_name == "report_payment":
        payment = PaymentReported.model_validate(_payload(signaled.input))
        account.payments.append((index, _time(event), payment))


def _marks_anchor_at_execution_start(event: HistoryEvent) -> bool:
    details = event.marker_recorded_event_attributes.details
    return any(
        ANCHOR_AT_EXECUTION_START.encode() in p.data
        for payloads in details.values()
        for p in payloads.payloads
    )


_TASK_ENDED_WITHOUT_COMPLETING = (
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
)

_ACTIVITY_CLOSED = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "activity_task_completed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_task_failed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_task_timed_out_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "activity_task_canceled_event_attributes",
}

_CLOSE_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "completed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "failed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "terminated",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: "timed_out",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: "canceled",
}

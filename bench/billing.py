"""Billable Temporal actions and history size, counted from real workflow histories.

The Temporal Cloud rules (DOMAIN.md): start 1, timer started 1, activity scheduled 1 (+1 per
retry), signal 1, update 1, query 1, search-attribute upsert 1, heartbeat reaching the server 1;
completions and fired timers are free. Queries and heartbeats leave no history event, so the
caller adds what it sent. A continue-as-new starts a new run: its start counts again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory

from overdue.billing_rules import CATEGORIES

# One billable action per event of these types.
BILLABLE_EVENTS: dict[int, str] = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "start",
    EventType.EVENT_TYPE_TIMER_STARTED: "timer",
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activity",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signal",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "update",
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "upsert",
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: "child_start",
    EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED: "signal_external",
}
# Not in DOMAIN.md's list, so not billed here; counted beside the actions (`markers`). A local
# activity's marker is the exception: it stands for the activity (overdue/billing_rules.py).
MARKER = EventType.EVENT_TYPE_MARKER_RECORDED
LOCAL_ACTIVITY_MARKER = "core_local_activity"  # the SDK core's marker name

# Activities that are contacts with the customer or an agent (the floor pays for these).
CONTACT_ACTIVITIES = frozenset({"send_sms", "create_call_task", "send_notification"})


@dataclass
class HistoryCost:
    """Actions and size of one workflow's histories (every run of a continue-as-new chain)."""

    actions: Counter[str] = field(default_factory=Counter)
    events: int = 0
    bytes: int = 0
    runs: int = 0
    workflow_tasks: int = 0
    activities_by_type: Counter[str] = field(default_factory=Counter)
    timers_cancelled: int = 0
    markers: int = 0
    first_event_time: float | None = None  # epoch seconds
    last_event_time: float | None = None

    @property
    def total(self) -> int:
        return sum(self.actions.values())

    @property
    def contacts(self) -> int:
        return sum(n for name, n in self.activities_by_type.items() if name in CONTACT_ACTIVITIES)

    @property
    def lifetime_seconds(self) -> float:
        if self.first_event_time is None or self.last_event_time is None:
            return 0.0
        return self.last_event_time - self.first_event_time

    def add_client_calls(self, queries: int = 0, heartbeats: int = 0) -> None:
        """Billable calls that leave no history event."""
        self.actions["query"] += queries
        self.actions["heartbeat"] += heartbeats

    def as_dict(self) -> dict[str, object]:
        return {
            "actions_total": self.total,
            "actions": {k: self.actions.get(k, 0) for k in CATEGORIES if self.actions.get(k)},
            "history_events": self.events,
            "history_bytes": self.bytes,
            "runs": self.runs,
            "workflow_tasks": self.workflow_tasks,
            "activities_by_type": dict(self.activities_by_type),
            "timers_cancelled": self.timers_cancelled,
            "markers": self.markers,
            "contacts": self.contacts,
            "lifetime_days": round(self.lifetime_seconds / 86_400, 2),
        }


def add_history(cost: HistoryCost, history: WorkflowHistory) -> str | None:
    """Count one run's history into `cost`; return the next run's id after a continue-as-new."""
    cost.runs += 1
    next_run: str | None = None
    for event in history.events:
        cost.events += 1
        cost.bytes += event.ByteSize()
        stamp = event.event_time.ToSeconds() + event.event_time.nanos / 1e9
        if cost.first_event_time is None:
            cost.first_event_time = stamp
        cost.last_event_time = stamp
        kind = BILLABLE_EVENTS.get(event.event_type)
        if kind is not None:
            cost.actions[kind] += 1
        etype = event.event_type
        if etype == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            cost.activities_by_type[attrs.activity_type.name] += 1
        elif etype == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            # Written once per activity, carrying the last attempt's number: retries = attempt-1.
            attempt = event.activity_task_started_event_attributes.attempt
            cost.actions["activity_retry"] += max(0, attempt - 1)
        elif etype == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            cost.workflow_tasks += 1
        elif etype == MARKER:
            name = event.marker_recorded_event_attributes.marker_name
            if name == LOCAL_ACTIVITY_MARKER:
                cost.actions["local_activity"] += 1
            else:
                cost.markers += 1
        elif etype == EventType.EVENT_TYPE_TIMER_CANCELED:
            cost.timers_cancelled += 1
        elif etype == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            next_run = (
                event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            )
    return next_run


async def workflow_cost(client: Client, workflow_id: str, first_run_id: str) -> HistoryCost:
    """Follow the continue-as-new chain from `first_run_id` and count every run."""
    cost = HistoryCost()
    run_id: str | None = first_run_id
    for _ in range(10_000):  # bounded: a chain this long would itself be a finding
        if run_id is None:
            break
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        run_id = add_history(cost, history)
    return cost


def count_histories(histories: Iterable[WorkflowHistory]) -> HistoryCost:
    """Count already-fetched histories (e.g. tests/histories/*.json) as one chain."""
    cost = HistoryCost()
    for history in histories:
        add_history(cost, history)
    return cost

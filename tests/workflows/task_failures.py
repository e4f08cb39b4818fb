"""The workflow tasks a process failed, as its history records them (none are expected)."""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import WorkflowHandle

FAILED = EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
RACED = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND


async def failed_workflow_tasks(handle: WorkflowHandle[Any, Any]) -> list[str]:
    """Each workflow task that failed, with its cause and message.

    Not counted: a completion the server refused because a signal arrived while the worker
    was completing the task (cause UNHANDLED_COMMAND). That is Temporal making the workflow
    see the new signal before it may finish, not a failure of ours, and on a loaded machine
    it happens whenever a request lands in that instant."""
    history = await handle.fetch_history()
    return [
        f"{WorkflowTaskFailedCause.Name(cause)}: {attributes.failure.message}"
        for event in history.events
        if event.event_type == FAILED
        and (cause := (attributes := event.workflow_task_failed_event_attributes).cause) != RACED
    ]

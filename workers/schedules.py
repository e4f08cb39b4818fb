"""The product's Temporal Schedules, created or brought up to date when the worker starts.

Idempotent: a schedule that exists gets the current settings' spec (the interval may have
changed); one that does not is created. Every worker does this at start, so the dev stack
(`make run`) and every deployment have it without a separate step; `overdue schedules ensure`
does the same by hand.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from workflows.names import OVERDUE_TASK_QUEUE
from workflows.retention_purge import RetentionPurgeWorkflow
from workflows.retention_types import RetentionPurgeInput

logger = logging.getLogger(__name__)

RETENTION_PURGE_SCHEDULE_ID = "retention-purge"
RETENTION_PURGE_WORKFLOW_ID = "retention-purge"  # each run's id is this plus the start time


def retention_purge_schedule(interval: timedelta) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RetentionPurgeWorkflow.run,
            RetentionPurgeInput(),
            id=RETENTION_PURGE_WORKFLOW_ID,
            task_queue=OVERDUE_TASK_QUEUE,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=interval)]),
        # A run still going when the next is due: skip the next, never run two at once.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_schedules(client: Client, *, purge_interval: timedelta) -> None:
    """Create the retention purge's schedule, or update it to the current settings."""
    schedule = retention_purge_schedule(purge_interval)
    try:
        await client.create_schedule(RETENTION_PURGE_SCHEDULE_ID, schedule)
        logger.info("created schedule %s (every %s)", RETENTION_PURGE_SCHEDULE_ID, purge_interval)
    except ScheduleAlreadyRunningError:

        def updated(current: ScheduleUpdateInput) -> ScheduleUpdate:
            # The action and spec from the settings; paused or not stays the operator's call.
            state = current.description.schedule.state
            return ScheduleUpdate(schedule=dataclasses.replace(schedule, state=state))

        await client.get_schedule_handle(RETENTION_PURGE_SCHEDULE_ID).update(updated)
        logger.info(
            "schedule %s is up to date (every %s)", RETENTION_PURGE_SCHEDULE_ID, purge_interval
        )

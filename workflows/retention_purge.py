"""RetentionPurgeWorkflow: remove what has expired, class by class, a batch at a time.

Started by a Temporal Schedule (workers/schedules.py), never by cron. Deterministic: the only
clock is workflow.now(), handed to the activity, which works out each class's cutoff from the
periods in settings; the activity records an audit event per batch with its counts.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.retention import RetentionActivities
    from workflows.retention_types import (
        PurgeBatchInput,
        RetentionPurgeInput,
        RetentionPurgeResult,
        add_counts,
    )

BATCH_TIMEOUT = timedelta(minutes=5)
BATCH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5)
)


@workflow.defn
class RetentionPurgeWorkflow:
    @workflow.run
    async def run(self, input: RetentionPurgeInput) -> RetentionPurgeResult:
        # One instant for the whole run: a batch never sees a later cutoff than the first.
        now = workflow.now()
        counts: dict[str, int] = add_counts({}, {})
        contacts_after = ""
        for batch in range(1, input.max_batches + 1):
            result = await workflow.execute_activity_method(
                RetentionActivities.purge_batch,
                PurgeBatchInput(
                    now=now, batch_size=input.batch_size, contacts_after=contacts_after
                ),
                start_to_close_timeout=BATCH_TIMEOUT,
                retry_policy=BATCH_RETRY,
                summary=f"Retention purge, batch {batch}",
            )
            counts = add_counts(counts, result.counts)
            contacts_after = result.contacts_after
            if result.done:
                return RetentionPurgeResult(counts=counts, batches=batch, done=True)
        return RetentionPurgeResult(counts=counts, batches=input.max_batches, done=False)

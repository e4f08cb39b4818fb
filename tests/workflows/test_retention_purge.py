"""RetentionPurgeWorkflow on the time-skipping server: batches until nothing more expired, one
clock for the whole run, the contact-details cursor carried on, a failed batch retried."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from workers.sandbox import workflow_runner
from workflows.names import OVERDUE_TASK_QUEUE
from workflows.retention_purge import RetentionPurgeWorkflow
from workflows.retention_types import (
    DATA_CLASSES,
    PurgeBatchInput,
    PurgeBatchResult,
    RetentionPurgeInput,
    RetentionPurgeResult,
)


class ScriptedPurge:
    """Answers each batch from a script; the first call may fail, as a database restart would."""

    def __init__(self, results: list[PurgeBatchResult], fail_first: bool = False) -> None:
        self.results = results
        self.inputs: list[PurgeBatchInput] = []
        self.fail_first = fail_first

    @activity.defn(name="purge_batch")
    async def purge_batch(self, input: PurgeBatchInput) -> PurgeBatchResult:
        if self.fail_first:
            self.fail_first = False
            raise RuntimeError("database restarting")
        self.inputs.append(input)
        return self.results[min(len(self.inputs), len(self.results)) - 1]


def batch(n: int, *, after: str = "", done: bool = False) -> PurgeBatchResult:
    return PurgeBatchResult(counts=dict.fromkeys(DATA_CLASSES, n), contacts_after=after, done=done)


async def run(
    env: WorkflowEnvironment, purge: ScriptedPurge, input: RetentionPurgeInput
) -> RetentionPurgeResult:
    async with Worker(
        env.client,
        task_queue=OVERDUE_TASK_QUEUE,
        workflows=[RetentionPurgeWorkflow],
        activities=[purge.purge_batch],
        workflow_runner=workflow_runner(),
    ):
        return await env.client.execute_workflow(
            RetentionPurgeWorkflow.run,
            input,
            id=f"retention-purge-{uuid.uuid4().hex[:8]}",
            task_queue=OVERDUE_TASK_QUEUE,
        )


async def test_batches_until_done_with_one_clock(time_skipping_env: WorkflowEnvironment) -> None:
    await time_skipping_env.sleep(timedelta(days=3))  # any instant: the run reads its own clock
    started = await time_skipping_env.get_current_time()
    purge = ScriptedPurge([batch(3, after="acct-9"), batch(3), batch(1, done=True)])
    result = await run(time_skipping_env, purge, RetentionPurgeInput(batch_size=3))
    assert result.done and result.batches == 3
    assert result.counts == dict.fromkeys(DATA_CLASSES, 7)
    assert [i.contacts_after for i in purge.inputs] == ["", "acct-9", ""]
    assert {i.now for i in purge.inputs} == {purge.inputs[0].now}
    assert abs(purge.inputs[0].now - started) < timedelta(minutes=1)
    assert all(i.batch_size == 3 for i in purge.inputs)


async def test_a_run_stops_after_max_batches(time_skipping_env: WorkflowEnvironment) -> None:
    purge = ScriptedPurge([batch(2)])
    result = await run(time_skipping_env, purge, RetentionPurgeInput(batch_size=2, max_batches=4))
    assert not result.done and result.batches == 4 and len(purge.inputs) == 4


async def test_a_failed_batch_is_retried(time_skipping_env: WorkflowEnvironment) -> None:
    purge = ScriptedPurge([batch(0, done=True)], fail_first=True)
    result = await run(time_skipping_env, purge, RetentionPurgeInput())
    assert result.done and result.batches == 1 and len(purge.inputs) == 1

"""A tiny workflow for tests: one notify activity (a letter) on a given task queue, retried as
OverdueAccountWorkflow retries it, its outcome returned. In an importable module: workflows
defined in a test script run as `__main__` fail sandbox validation."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.contact_types import NotifyInput, NotifyResult


class LetterOnQueue(BaseModel):
    notice: NotifyInput
    task_queue: str


class LetterOutcome(BaseModel):
    result: NotifyResult | None = None


@workflow.defn
class MakeLetterWorkflow:
    @workflow.run
    async def run(self, input: LetterOnQueue) -> LetterOutcome:
        result = await workflow.execute_activity(
            "send_notification",
            input.notice,
            task_queue=input.task_queue,
            result_type=NotifyResult,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=100),
                maximum_interval=timedelta(milliseconds=500),
            ),
        )
        return LetterOutcome(result=result)

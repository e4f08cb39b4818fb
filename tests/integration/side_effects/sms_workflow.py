"""A tiny workflow for tests: one SMS activity on a given task queue, its outcome returned.

It sits in an importable module because workflows defined in a test script run as `__main__`
fail sandbox validation. It shows the contract OverdueAccountWorkflow relies on: the activity
name, its queue, and the ApplicationError types of refusals.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.contact_types import SendSmsInput, SendSmsResult


class SendOnQueue(BaseModel):
    sms: SendSmsInput
    task_queue: str


class SmsOutcome(BaseModel):
    result: SendSmsResult | None = None
    failure_type: str | None = None
    non_retryable: bool | None = None


@workflow.defn
class SendSmsWorkflow:
    @workflow.run
    async def run(self, input: SendOnQueue) -> SmsOutcome:
        try:
            result = await workflow.execute_activity(
                "send_sms",
                input.sms,
                task_queue=input.task_queue,
                result_type=SendSmsResult,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(milliseconds=100),
                    maximum_interval=timedelta(milliseconds=500),
                ),
            )
        except ActivityError as err:
            if isinstance(err.cause, ApplicationError):
                return SmsOutcome(
                    failure_type=err.cause.type, non_retryable=err.cause.non_retryable
                )
            raise
        return SmsOutcome(result=result)

"""`overdue pause` / `overdue resume`: one signal to many accounts, as a Temporal batch job.

The server runs the job (`StartBatchOperation` with a signal operation): it walks the
visibility query and signals `pause_by_ops` / `resume_by_ops` to each running workflow, and goes
on if this command stops. Its pace is the server's dynamic config `worker.batcherRPS` (50 per
second per namespace by default): servers ignore the request's `max_operations_per_second`
(temporalio/temporal#12087 would restore it), so this command offers no rate of its own.

The signal's input is a PauseRequest or ResumeRequest encoded with the client's data converter,
exactly what the workflow decodes. It carries no send-time header: the server's batcher does not
pass headers on, so batch signals are not in the signal-to-effect metric. An account already
paused (or not paused, for resume) ignores the signal and notes it. Progress is read from
`DescribeBatchOperation` until the job completes.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Literal, TextIO

from pydantic import BaseModel, Field, ValidationError
from temporalio.api.batch.v1 import BatchOperationSignal
from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import BatchOperationState
from temporalio.api.workflowservice.v1 import (
    DescribeBatchOperationRequest,
    DescribeBatchOperationResponse,
    StartBatchOperationRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from overdue.inputs import control_character_in
from overdue.store.free_texts import FreeText, new_text
from workers.ops.common import scoped_query
from workers.ops.errors import OpsError
from workers.ops.progress import Progress
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import PauseRequest, ResumeRequest

Action = Literal["pause", "resume"]
SIGNALS: dict[str, str] = {
    "pause": OverdueAccountWorkflow.pause_by_ops.__name__,
    "resume": OverdueAccountWorkflow.resume_by_ops.__name__,
}
POLL_SECONDS = 0.5
REASON_MAX = 500


@dataclass(frozen=True)
class BatchResult:
    job_id: str
    total: int
    signalled: int
    failed: int
    state: str  # completed, failed


class _Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=REASON_MAX)


def request_for(
    action: Action, actor: str, reason: str
) -> tuple[PauseRequest | ResumeRequest, FreeText]:
    """The signal's input, validated as the workflow will read it, and the reason typed, which
    stays in Postgres (the signal carries its id; store it before the job starts)."""
    model = PauseRequest if action == "pause" else ResumeRequest
    for option, value in (("actor", actor), ("reason", reason)):
        if control_character_in(value):  # kept in the audit trail (Postgres refuses NUL)
            raise OpsError(f"--{option}: must not contain control characters", exit_code=2)
    try:
        _Reason(reason=reason)
        text = new_text(f"ops.{action}_reason", reason)
        return model(actor=actor, text_id=text.id), text
    except ValidationError as err:  # empty, or longer than the workflow takes
        problems = "; ".join(f"--{e['loc'][0]}: {e['msg']}" for e in err.errors())
        raise OpsError(problems, exit_code=2) from None


async def start(
    client: Client,
    action: Action,
    request: PauseRequest | ResumeRequest,
    query: str | None,
) -> str:
    """Start the batch job over the running accounts the query matches; returns its id."""
    job_id = f"overdue-{action}-{uuid.uuid4()}"
    payloads = await client.data_converter.encode([request])
    operation = BatchOperationSignal(
        signal=SIGNALS[action],
        input=Payloads(payloads=payloads),
        identity=request.actor,
    )
    try:
        await client.workflow_service.start_batch_operation(
            StartBatchOperationRequest(
                namespace=client.namespace,
                visibility_query=scoped_query(query, running_only=True),
                job_id=job_id,
                # Shown by `temporal batch describe`: the reason typed stays in Postgres.
                reason=f"{action} by {request.actor} (reason {request.text_id} in Postgres)",
                signal_operation=operation,
            )
        )
    except RPCError as err:
        if err.status == RPCStatusCode.RESOURCE_EXHAUSTED:
            raise OpsError(
                f"Temporal refused a new batch job: {err.message}. Another batch job is "
                "probably running in this namespace; wait for it (`temporal batch list`) "
                "and try again"
            ) from None
        if err.status == RPCStatusCode.INVALID_ARGUMENT:
            raise OpsError(f"invalid --query {query!r}: {err.message}", exit_code=2) from None
        raise OpsError(f"Temporal refused the batch job: {err.message}") from None
    return job_id


async def describe(client: Client, job_id: str) -> DescribeBatchOperationResponse:
    return await client.workflow_service.describe_batch_operation(
        DescribeBatchOperationRequest(namespace=client.namespace, job_id=job_id)
    )


async def wait(client: Client, job_id: str, expected: int, err: TextIO) -> BatchResult:
    """Poll the job until it is over, showing its progress."""
    progress = Progress(f"{job_id}", expected, err)
    try:
        while True:
            job = await describe(client, job_id)
            total = job.total_operation_count or expected
            progress.update(job.complete_operation_count + job.failure_operation_count, total)
            if job.state != BatchOperationState.BATCH_OPERATION_STATE_RUNNING:
                break
            await asyncio.sleep(POLL_SECONDS)
    finally:
        progress.finish()
    state = (
        "completed"
        if job.state == BatchOperationState.BATCH_OPERATION_STATE_COMPLETED
        else "failed"
    )
    return BatchResult(
        job_id=job_id,
        total=job.total_operation_count,
        signalled=job.complete_operation_count,
        failed=job.failure_operation_count,
        state=state,
    )

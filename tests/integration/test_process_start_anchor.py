"""A `process_start` policy counts from the execution's start, on the real dev server.

The time-skipping test server cannot stand in here: it does not skip time while a workflow
task waits for a worker, which is the very situation under test.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from tests.integration.support import CUSTOMER_ZONE
from tests.workflows.harness import Recorder
from workers.devstack.local_temporal import TemporalDevServer
from workers.sandbox import workflow_runner
from workflows.names import workflow_id
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.policy import Policy
from workflows.types import OverdueAccountInput

pytestmark = pytest.mark.integration

OFFSET = timedelta(seconds=4)
WORKER_DOWN = timedelta(seconds=3)
POLICY = Policy.model_validate(
    {
        "id": "anchor-test",
        "version": 1,
        "anchor": "process_start",
        "contact_windows": {"default": {"start": "00:00", "end": "23:59"}},
        # A letter obeys no contact window, so the test does not depend on the time of day.
        "stages": [{"id": "t4s_letter", "offset": "4s", "channel": "notify", "kind": "letter"}],
    }
)


async def test_a_worker_down_at_the_start_does_not_shift_the_schedule(
    temporal_dev_server: TemporalDevServer,
) -> None:
    client = await Client.connect(
        f"{temporal_dev_server.host}:{temporal_dev_server.port}",
        data_converter=pydantic_data_converter,
    )
    queue = f"anchor-{uuid.uuid4().hex[:8]}"  # no other worker polls it
    handle = await client.start_workflow(
        OverdueAccountWorkflow.run,
        OverdueAccountInput(
            account_id=f"acct-{uuid.uuid4().hex[:10]}",
            product="credit_line",
            amount_due_minor=10_000,
            currency="CNY",
            due_date=date(2026, 11, 1),
            time_zone=CUSTOMER_ZONE,
            policy=POLICY,
        ),
        id=workflow_id(f"anchor-{uuid.uuid4().hex[:10]}"),
        task_queue=queue,
    )
    started = (await handle.describe()).start_time
    await asyncio.sleep(WORKER_DOWN.total_seconds())  # no worker: the first task waits

    recorder = Recorder()
    async with Worker(
        client,
        task_queue=queue,
        workflows=[OverdueAccountWorkflow],
        activities=recorder.activities(),
        workflow_runner=workflow_runner(),
    ):
        for _ in range(100):
            if recorder.notices:
                break
            await asyncio.sleep(0.1)
        await handle.terminate("test over")

    history = await handle.fetch_history()
    first_task = next(
        e.event_time.ToDatetime(tzinfo=UTC)
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
    )
    [(_, scheduled_at)] = recorder.notices
    assert first_task >= started + WORKER_DOWN
    assert scheduled_at >= started + OFFSET  # never early
    # Counted from the first task (the old anchor), it could not come before first_task + 4 s.
    assert scheduled_at < first_task + OFFSET

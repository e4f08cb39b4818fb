"""The worker process: OverdueAccountWorkflow plus its activities on one task queue."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.worker import Worker

from activities.call_tasks import CallTaskActivities
from activities.sms import SmsActivities
from activities.sms_senders import SmsSender, build_sender
from overdue.db import create_pool
from overdue.settings import Settings
from overdue.temporal_client import connect
from workers.sandbox import workflow_runner
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.task_queues import OVERDUE_TASK_QUEUE

logger = logging.getLogger(__name__)

WORKFLOWS: Sequence[type] = (OverdueAccountWorkflow,)


def activities(pool: asyncpg.Pool, sender: SmsSender) -> list[Any]:
    sms = SmsActivities(pool, sender)
    calls = CallTaskActivities(pool)
    return [sms.send_sms, calls.create_call_task, calls.cancel_open_call_tasks]


def build_worker(client: Client, pool: asyncpg.Pool, sender: SmsSender) -> Worker:
    return Worker(
        client,
        task_queue=OVERDUE_TASK_QUEUE,
        workflows=list(WORKFLOWS),
        activities=activities(pool, sender),
        workflow_runner=workflow_runner(),
        # Let in-flight activities finish their ledger write on shutdown.
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


async def run_worker(settings: Settings) -> None:
    client = await connect(settings)
    pool = await create_pool(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with build_worker(client, pool, build_sender(settings.sms_sender)):
            logger.info("worker polling task queue %s", OVERDUE_TASK_QUEUE)
            await stop.wait()
            logger.info("worker shutting down")
    finally:
        await pool.close()

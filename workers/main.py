"""The worker process: OverdueAccountWorkflow and its activities, and the SMS worker.

Two Temporal workers in one process: the workflow's task queue, and SMS_TASK_QUEUE, whose
activity rate is capped for the whole queue (all processes together) at the sender's rate.
"""

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
from activities.notify import NotifyActivities
from activities.sms import SmsActivities
from activities.sms_senders import SmsSender, build_sender
from overdue.db import create_pool
from overdue.settings import Settings
from overdue.temporal_client import connect
from workers.sandbox import workflow_runner
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.task_queues import OVERDUE_TASK_QUEUE, SMS_TASK_QUEUE

logger = logging.getLogger(__name__)

WORKFLOWS: Sequence[type] = (OverdueAccountWorkflow,)


# Let in-flight activities finish their ledger write on shutdown.
GRACEFUL_SHUTDOWN = timedelta(seconds=10)


def activities(
    pool: asyncpg.Pool, sender: SmsSender, notify: NotifyActivities | None = None
) -> list[Any]:
    sms = SmsActivities(pool, sender)
    calls = CallTaskActivities(pool)
    notify = notify or NotifyActivities(pool, None)
    return [
        # Also here until the workflow schedules send_sms on SMS_TASK_QUEUE; remove it then.
        sms.send_sms,
        calls.create_call_task,
        calls.cancel_open_call_tasks,
        notify.send_notification,
    ]


def build_worker(
    client: Client,
    pool: asyncpg.Pool,
    sender: SmsSender,
    notify: NotifyActivities | None = None,
) -> Worker:
    return Worker(
        client,
        task_queue=OVERDUE_TASK_QUEUE,
        workflows=list(WORKFLOWS),
        activities=activities(pool, sender, notify),
        workflow_runner=workflow_runner(),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


def build_sms_worker(
    client: Client,
    pool: asyncpg.Pool,
    sender: SmsSender,
    *,
    rate_per_second: float,
    task_queue: str = SMS_TASK_QUEUE,
) -> Worker:
    """The SMS queue's worker: the server hands out at most `rate_per_second` SMS activities
    per second across all of the queue's workers, so the provider is never outpaced."""
    return Worker(
        client,
        task_queue=task_queue,
        activities=[SmsActivities(pool, sender).send_sms],
        max_task_queue_activities_per_second=rate_per_second,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


async def run_worker(settings: Settings) -> None:
    notify_config = settings.notify()  # a bad notify setting stops the worker at start
    client = await connect(settings)
    pool = await create_pool(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sender = build_sender(settings)
    notify = NotifyActivities(pool, notify_config)
    try:
        async with (
            build_worker(client, pool, sender, notify),
            build_sms_worker(client, pool, sender, rate_per_second=settings.sms_rate_per_second),
        ):
            logger.info(
                "worker polling task queues %s and %s (SMS: %s, %.2f/s)",
                OVERDUE_TASK_QUEUE,
                SMS_TASK_QUEUE,
                sender.name,
                settings.sms_rate_per_second,
            )
            await stop.wait()
            logger.info("worker shutting down")
    finally:
        await sender.close()
        await notify.close()
        await pool.close()

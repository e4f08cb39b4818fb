"""The worker process: OverdueAccountWorkflow and its activities, and the SMS worker.

Two Temporal workers in one process: the workflow's task queue, and SMS_TASK_QUEUE, whose
activity rate is capped for the whole queue (all processes together) at the sender's rate.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.worker import Worker

from activities.call_tasks import CallTaskActivities
from activities.closing import ClosingActivities
from activities.event_audit import EventAuditActivities
from activities.notify import NotifyActivities
from activities.retention import RetentionActivities, workflow_open_in
from activities.selfservice_code import SelfServiceCodeActivities
from activities.selfservice_link import link_config_from, use_link_config
from activities.sms import SmsActivities
from activities.sms_senders import SmsSender, build_sender
from overdue.db import create_pool
from overdue.metrics import ProductMetricsInterceptor, build_runtime, call_task_gauges
from overdue.privacy_keys import keyring_from, use_keyring
from overdue.settings import Settings
from overdue.settings_retention import RetentionPeriods
from overdue.temporal_client import connect
from workers.policy_codec import PolicyShelfCodec
from workers.sandbox import workflow_runner
from workers.schedules import ensure_schedules
from workflows.names import OVERDUE_TASK_QUEUE, SMS_TASK_QUEUE
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.retention_purge import RetentionPurgeWorkflow

logger = logging.getLogger(__name__)

WORKFLOWS: Sequence[type] = (OverdueAccountWorkflow, RetentionPurgeWorkflow)


# Let in-flight activities finish their ledger write on shutdown.
GRACEFUL_SHUTDOWN = timedelta(seconds=10)


def activities(
    pool: asyncpg.Pool, notify: NotifyActivities | None, retention: RetentionActivities
) -> list[Any]:
    """The main queue's activities. SMS have a queue of their own (build_sms_worker)."""
    calls = CallTaskActivities(pool)
    notify = notify or NotifyActivities(pool, None)
    audit = EventAuditActivities(pool)
    return [
        calls.create_call_task,
        calls.cancel_open_call_tasks,
        notify.send_notification,
        audit.record_received_events,
        ClosingActivities(pool).close_process,
        retention.purge_batch,
    ]


def build_worker(
    client: Client,
    pool: asyncpg.Pool,
    notify: NotifyActivities | None = None,
    retention: RetentionPeriods | None = None,
) -> Worker:
    """The main queue's worker: workflows, call tasks, notifications and the retention purge
    (with the default periods unless given the settings')."""
    purge = RetentionActivities(pool, retention or RetentionPeriods(), workflow_open_in(client))
    return Worker(
        client,
        task_queue=OVERDUE_TASK_QUEUE,
        workflows=list(WORKFLOWS),
        activities=activities(pool, notify, purge),
        workflow_runner=workflow_runner(),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        interceptors=[ProductMetricsInterceptor()],
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
    per second across all of the queue's workers, so the provider is never outpaced. The
    stage SMS and the self-service code's SMS (its subclass) share the queue and the rate."""
    code = SelfServiceCodeActivities(pool, sender)  # its overrides are for the code's SMS only
    return Worker(
        client,
        task_queue=task_queue,
        activities=[SmsActivities(pool, sender).send_sms, code.send_selfservice_code],
        max_task_queue_activities_per_second=rate_per_second,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        interceptors=[ProductMetricsInterceptor()],
    )


async def run_worker(settings: Settings) -> None:
    # Bad notify or Twilio settings stop the worker here, before it takes any task.
    notify_config = settings.notify()
    use_keyring(keyring_from(settings))  # the privacy keys (docs/privacy.md) too
    use_link_config(link_config_from(settings))  # `{link}`: docs/self-service.md
    if notify_config is None:
        logger.warning("OVERDUE_NOTIFY_URL is unset: notify stages are recorded, not sent")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as resources:
        sender = build_sender(settings)
        resources.push_async_callback(sender.close)
        # Prometheus metrics (SDK and product) at OVERDUE_WORKER_METRICS_ADDRESS, if set.
        runtime, serves_metrics = build_runtime(settings)
        pool = await create_pool(settings)
        resources.push_async_callback(pool.close)
        client = await connect(settings, runtime, payload_codec=PolicyShelfCodec(pool))
        if serves_metrics:
            await resources.enter_async_context(call_task_gauges(pool, runtime.metric_meter))
            logger.info("metrics at http://%s/metrics", settings.worker_metrics_address)
        notify = NotifyActivities(pool, notify_config)
        resources.push_async_callback(notify.close)
        await ensure_schedules(
            client, purge_interval=timedelta(hours=settings.retention_purge_interval_hours)
        )
        async with (
            build_worker(client, pool, notify, settings.retention_periods()),
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

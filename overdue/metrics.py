"""Prometheus metrics: the Temporal SDK's and the product's, on the worker's one endpoint.

The worker's Temporal runtime serves `/metrics` at `OVERDUE_WORKER_METRICS_ADDRESS`
(`build_runtime`). Product metrics are recorded through the same runtime's meter, so one
scrape gets everything:

- `overdue_reminders_total{channel, stage}` (counter): contacts made: SMS accepted, call
  tasks created, notices delivered. A retry that finds its contact made does not count again.
- `overdue_provider_errors_total{channel, code, kind}` (counter): activity attempts that failed
  with a provider's code (a Twilio error code, `429`, `http_503`, ...).
- `overdue_open_call_tasks{queue, status}` and `overdue_oldest_due_call_task_age_seconds{queue}`
  (gauges): read from Postgres by the worker every `CALL_TASK_GAUGE_SECONDS`.
- `overdue_relay_reports{outbox, state}` and `overdue_relay_oldest_pending_age_seconds{outbox}`
  (gauges): reports the API recorded and Temporal has not taken yet (`state` pending, or
  given_up by the relay: api/relay.py), refreshed with the call-task gauges.
- `overdue_signal_to_effect_seconds{signal}` (histogram): from a client sending a signal to the
  workflow applying it.

Counters and the histogram are recorded by `ProductMetricsInterceptor`, which watches the
activities' outcomes and the workflows' signal handling, so activities and workflows carry no
metrics code.

Signal-to-effect latency: every client made by `overdue.temporal_client.connect` (API, console,
webhooks, CLI) stamps its signals with the send time in a header (`SENT_AT_HEADER`); the
worker's workflow interceptor records, once the signal handler has run, workflow time minus
that stamp. Workflow time is the start of the workflow task that applied the signal, so the
figure includes any backlog before a worker picked it up. Signals without the stamp are not
measured: those sent by other tools, and the ops CLI's batch pause and resume (the server's
batcher does not pass headers on). Metrics recorded by workflow code are skipped on replay by
the SDK, so a worker restart does not count anything twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Interceptor as ClientInterceptor
from temporalio.client import OutboundInterceptor, SignalWorkflowInput
from temporalio.common import MetricMeter
from temporalio.converter import PayloadConverter
from temporalio.exceptions import ApplicationError
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    HandleSignalInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from overdue.ports import port_is_free
from overdue.settings import Settings
from overdue.store.call_tasks import queue_counts
from overdue.store.relay_refusals import outbox_counts
from workflows.contact_types import CreateCallTaskResult, NotifyResult, SendSmsResult

logger = logging.getLogger(__name__)

REMINDERS = "overdue_reminders"  # `_total` is added on export
PROVIDER_ERRORS = "overdue_provider_errors"
OPEN_CALL_TASKS = "overdue_open_call_tasks"
OLDEST_DUE_CALL_TASK = "overdue_oldest_due_call_task_age_seconds"
RELAY_REPORTS = "overdue_relay_reports"
RELAY_OLDEST_PENDING = "overdue_relay_oldest_pending_age_seconds"
SIGNAL_TO_EFFECT = "overdue_signal_to_effect"  # `_seconds` is added on export
SENT_AT_HEADER = "overdue-signal-sent-at-ms"
CALL_TASK_GAUGE_SECONDS = 15.0
# Signals should take effect within a second or two; the tail shows a backlog.
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
_PAYLOADS = PayloadConverter.default
_INSTALMENT_STAGE = re.compile(r"^(plan_instalment)_\d+$")


# --- the endpoint -------------------------------------------------------------------------


def build_runtime(settings: Settings) -> tuple[Runtime, bool]:
    """The worker's Temporal runtime, and whether it serves metrics.

    The SDK core's own log lines go through Python logging (logger `temporalio.core`), so
    they come out in OVERDUE_LOG_FORMAT like every other line. Prometheus metrics are served
    at OVERDUE_WORKER_METRICS_ADDRESS unless it is empty or taken; a taken port is logged and
    the worker runs on without the endpoint: reminders matter more than their metrics.
    """
    address = settings.worker_metrics_address
    if address is not None:
        host, _, port = address.rpartition(":")
        if not port_is_free(int(port), host.strip("[]")):
            logger.error(
                "metrics endpoint not started: %s is in use (another worker on this machine?); "
                "set OVERDUE_WORKER_METRICS_ADDRESS to a free port, or to empty to turn it off",
                address,
            )
            address = None
    try:
        return Runtime(telemetry=telemetry_config(address)), address is not None
    except ValueError as err:  # taken between the check and the bind
        logger.error("metrics endpoint not started on %s: %s", address, err)
        return Runtime(telemetry=telemetry_config(None)), False


def telemetry_config(metrics_address: str | None) -> TelemetryConfig:
    core_logs = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
    )
    if metrics_address is None:
        return TelemetryConfig(logging=core_logs)
    # Names and units as Temporal's Grafana dashboards expect (`_total`, `_seconds`).
    return TelemetryConfig(
        logging=core_logs,
        metrics=PrometheusConfig(
            bind_address=metrics_address,
            counters_total_suffix=True,
            unit_suffix=True,
            durations_as_seconds=True,
            histogram_bucket_overrides={SIGNAL_TO_EFFECT: _LATENCY_BUCKETS},
        ),
    )


# --- signal-to-effect latency -------------------------------------------------------------


def sent_at_header(now: float | None = None) -> dict[str, Payload]:
    """The header that stamps a signal with its send time (epoch milliseconds)."""
    millis = int((time.time() if now is None else now) * 1000)
    return {SENT_AT_HEADER: _PAYLOADS.to_payload(millis)}


class SignalStampingInterceptor(ClientInterceptor):
    """Client side: stamp every signal with its send time."""

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _StampingOutbound(next)


class _StampingOutbound(OutboundInterceptor):
    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        input.headers = {**input.headers, **sent_at_header()}
        await super().signal_workflow(input)


class _SignalLatencyInbound(WorkflowInboundInterceptor):
    async def handle_signal(self, input: HandleSignalInput) -> None:
        await super().handle_signal(input)
        stamp = input.headers.get(SENT_AT_HEADER)
        if stamp is None:
            return
        try:
            millis = int(_PAYLOADS.from_payload(stamp, int))
        except Exception:  # a foreign header of the same name: not ours to measure
            return
        sent = datetime.fromtimestamp(millis / 1000, UTC)
        latency = max(workflow.now() - sent, timedelta(0))  # clocks can disagree a little
        workflow.metric_meter().create_histogram_timedelta(
            SIGNAL_TO_EFFECT, "From a client sending a signal to the workflow applying it."
        ).record(latency, {"signal": input.signal})


# --- reminders and provider errors --------------------------------------------------------


class ProductMetricsInterceptor(Interceptor):
    """Worker side: product metrics from activity outcomes and signal handling. Add to every
    Worker (`interceptors=[ProductMetricsInterceptor()]`); the meter is the worker's runtime's."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ContactCounting(next)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _SignalLatencyInbound


def stage_label(stage_id: str) -> str:
    """Stage ids as a bounded label set: `plan_instalment_7` counts as `plan_instalment`."""
    return _INSTALMENT_STAGE.sub(r"\1", stage_id)


# The activities that make a contact, and its channel (the policy's Channel values).
_CONTACT_CHANNELS: Mapping[str, str] = {
    "send_sms": "sms",
    "create_call_task": "call_task",
    "send_notification": "notify",
}


def is_new_contact(result: object) -> bool:
    """False for a retry that found its contact already made (it was counted then)."""
    if isinstance(result, CreateCallTaskResult):
        return result.created
    if isinstance(result, SendSmsResult | NotifyResult):
        return not result.already_sent
    return False


class _ContactCounting(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        channel = _CONTACT_CHANNELS.get(activity.info().activity_type)
        if channel is None:
            return await super().execute_activity(input)
        try:
            result = await super().execute_activity(input)
        except ApplicationError as err:
            code = provider_error_code(err)
            if code is not None:
                activity.metric_meter().create_counter(
                    PROVIDER_ERRORS, "Activity attempts that failed with a provider's code."
                ).add(1, {"channel": channel, "code": code, "kind": err.type or "unknown"})
            raise
        stage = getattr(input.args[0], "stage_id", None) if input.args else None
        if is_new_contact(result) and isinstance(stage, str):
            activity.metric_meter().create_counter(
                REMINDERS, "Contacts made: SMS accepted, call tasks created, notices delivered."
            ).add(1, {"channel": channel, "stage": stage_label(stage)})
        return result


def provider_error_code(err: ApplicationError) -> str | None:
    """The provider's code an activity put in its error details: SMS `error_code` (Twilio's
    code, `429`, `http_503`, ...), notify `status_code` (as `http_<status>`); None otherwise."""
    details = err.details[0] if err.details else None
    if not isinstance(details, dict):
        return None
    if details.get("error_code") is not None:
        return str(details["error_code"])
    if details.get("status_code") is not None:
        return f"http_{details['status_code']}"
    return None


# --- open call tasks ----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def call_task_gauges(
    pool: asyncpg.Pool, meter: MetricMeter, every: float = CALL_TASK_GAUGE_SECONDS
) -> AsyncIterator[None]:
    """Refresh the open-call-task gauges from Postgres while the context is open.

    Every worker process exports them, each with the same values: aggregate with `max`,
    not `sum` (docs/operations.md)."""
    task = asyncio.create_task(_refresh_forever(pool, meter, every), name="call-task-gauges")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def refresh_call_task_gauges(pool: asyncpg.Pool, meter: MetricMeter) -> None:
    counts = await queue_counts(pool)
    tasks = meter.create_gauge(OPEN_CALL_TASKS, "Call tasks not done, by queue and status.")
    oldest = meter.create_gauge_float(
        OLDEST_DUE_CALL_TASK, "How long the longest-waiting due, unclaimed task has waited."
    )
    now = datetime.now(UTC)
    for queue in counts:
        tasks.set(queue.open, {"queue": queue.queue, "status": "open"})
        tasks.set(queue.claimed, {"queue": queue.queue, "status": "claimed"})
        waited = (now - queue.oldest_due_at).total_seconds() if queue.oldest_due_at else 0.0
        oldest.set(max(waited, 0.0), {"queue": queue.queue})


async def refresh_relay_gauges(pool: asyncpg.Pool, meter: MetricMeter) -> None:
    reports = meter.create_gauge(RELAY_REPORTS, "Reports not delivered to Temporal yet, by state.")
    oldest = meter.create_gauge_float(
        RELAY_OLDEST_PENDING, "How long the oldest report the relay still tries has waited."
    )
    now = datetime.now(UTC)
    for outbox in await outbox_counts(pool):
        reports.set(outbox.pending, {"outbox": outbox.outbox, "state": "pending"})
        reports.set(outbox.given_up, {"outbox": outbox.outbox, "state": "given_up"})
        since = outbox.oldest_pending_at
        oldest.set(
            max((now - since).total_seconds(), 0.0) if since else 0.0, {"outbox": outbox.outbox}
        )


async def _refresh_forever(pool: asyncpg.Pool, meter: MetricMeter, every: float) -> None:
    while True:
        try:
            await refresh_call_task_gauges(pool, meter)
            await refresh_relay_gauges(pool, meter)
        except (OSError, asyncpg.PostgresError) as err:
            # Postgres away for a moment: the gauges keep their last values until it is back.
            logger.warning("call task and relay gauges not refreshed: %s", type(err).__name__)
        await asyncio.sleep(every)

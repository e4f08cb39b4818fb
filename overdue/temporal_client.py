"""The Temporal client every process uses: one place for the address and data converter."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime

from overdue.metrics import SignalStampingInterceptor
from overdue.settings import Settings


async def connect(
    settings: Settings, runtime: Runtime | None = None, *, lazy: bool = False
) -> Client:
    """A client for the configured namespace. Its signals carry their send time, for the
    workers' signal-to-effect latency metric; `runtime` is the worker's metrics runtime.
    `lazy` connects on the first call instead (a process that must start while Temporal is
    down: the API)."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        interceptors=[SignalStampingInterceptor()],
        runtime=runtime,
        lazy=lazy,
    )

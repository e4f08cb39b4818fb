"""Every Temporal call of the API has a deadline (issue 13): an unreachable Temporal is a quick
RPC error the API maps to 503, never a request held for the SDK's retries."""

from __future__ import annotations

import time

import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from api.problems import temporal_unavailable
from api.workflow_calls import CALL_DEADLINE, WORKER_DEADLINE, with_deadlines
from overdue.ports import free_tcp_ports


async def unreachable() -> Client:
    (port,) = free_tcp_ports(1)  # nobody listens there
    return with_deadlines(await Client.connect(f"127.0.0.1:{port}", lazy=True))


@pytest.mark.parametrize("call", ["signal", "describe", "query"])
async def test_a_call_to_an_unreachable_temporal_fails_fast_as_unavailable(call: str) -> None:
    handle = (await unreachable()).get_workflow_handle("overdue-acct-1")
    started = time.monotonic()
    with pytest.raises(RPCError) as raised:
        if call == "signal":
            await handle.signal("report_payment", {})
        elif call == "describe":
            await handle.describe()
        else:
            await handle.query("status")
    took = time.monotonic() - started
    assert temporal_unavailable(raised.value.status), raised.value
    limit = (WORKER_DEADLINE if call == "query" else CALL_DEADLINE).total_seconds() + 1
    assert took < limit, f"{call} failed after {took:.1f} s"


async def test_the_deadline_keeps_the_clients_settings() -> None:
    client = await unreachable()
    assert client.namespace == "default"
    assert type(client.config()["interceptors"][-1]).__name__ == "DeadlineInterceptor"

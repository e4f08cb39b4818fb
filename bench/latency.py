"""Latency: a payment reported through the API until the workflow is resolved and its call
tasks cancelled, p50/p99 under background load, against a bare signal round trip.

The stack: an in-memory dev server, an embedded Postgres (migrations applied), the product's
worker (workers.main.build_worker, recording SMS sender) in its own process, and the API
(api.app.create_app) served by uvicorn in this process, with a Bearer key from
overdue.store.api_keys. Every measured account has an open call task (bench/policies/latency.yaml).

Measured, alternating, one at a time while the background load runs:

- payment: POST /v1/accounts/{id}/payments (paid in full) until the workflow's result is in:
  the workflow completes only after its cancel_open_call_tasks activity, so that instant is
  "resolved and call tasks cancelled" (checked against the call_tasks table afterwards);
- bare signal: client.signal to a workflow that completes on that signal (bench/noop.py's
  echo, running in the same worker process), until its result is in.

Background load: new accounts reported overdue through the API at --load-rate per second
(each gets a call task at once and an SMS a second later).

    .venv/bin/python -m bench.latency [--samples 200] [--load-rate 5] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.common import ROOT, api_stack, fmt, percentile, print_table, publish_result, ratio
from bench.noop import ECHO_TASK_QUEUE, EchoWorkflow
from bench.stack import wait_until
from workflows.names import workflow_id
from workflows.types import AccountOutcome

POLICY_FILE = ROOT / "bench" / "policies" / "latency.yaml"
AMOUNT = 150_000
TARGET_P99 = 1.5  # issue 19: payment -> resolved p99 at most this times a bare signal's


def overdue_report(account_id: str) -> dict[str, Any]:
    return {
        "customer": {
            "name": f"Customer {account_id[-4:]}",
            "phone": "+8613800138000",
            "time_zone": "Asia/Shanghai",
            "locale": "zh-CN",
        },
        "product": "credit_line",
        "amount_due": {"amount_minor": AMOUNT, "currency": "CNY"},
        "due_date": date.today().isoformat(),
    }


class Load:
    """Accounts reported overdue through the API at a steady rate, until stopped."""

    def __init__(self, api: httpx.AsyncClient, rate: float) -> None:
        self.api = api
        self.rate = rate
        self.sent = 0
        self.failed = 0
        self.began = 0.0
        self.ended = 0.0
        self._task: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()

    async def _one(self, account_id: str) -> None:
        try:
            r = await self.api.put(
                f"/v1/accounts/{account_id}/overdue", json=overdue_report(account_id)
            )
            if r.status_code not in (200, 201):
                self.failed += 1
        except httpx.HTTPError:
            self.failed += 1

    async def _run(self) -> None:
        self.began = time.monotonic()
        n = 0
        while True:
            n += 1
            task = asyncio.create_task(self._one(f"load-{uuid.uuid4().hex[:10]}"))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            self.sent += 1
            # Steady schedule, not sleep-after-send: the rate holds while requests queue up.
            await asyncio.sleep(max(0.0, self.began + n / self.rate - time.monotonic()))

    def start(self) -> None:
        if self.rate > 0:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self.ended = time.monotonic()
        if self._task:
            self._task.cancel()
        await asyncio.gather(*self._inflight, return_exceptions=True)

    @property
    def achieved_rate(self) -> float | None:
        span = self.ended - self.began
        return round((self.sent - self.failed) / span, 2) if self._task and span > 0 else None


async def run(samples: int, load_rate: float, warmup: int) -> dict[str, Any]:
    async with api_stack(POLICY_FILE, echo=True) as stack:
        client = await Client.connect(
            stack.temporal_address, data_converter=pydantic_data_converter
        )
        pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=4)
        assert pool is not None
        try:
            async with httpx.AsyncClient(
                base_url=stack.api_url,
                timeout=60,
                headers={"Authorization": f"Bearer {stack.key}"},
            ) as api:
                return await measure(client, pool, api, samples, load_rate, warmup)
        finally:
            await pool.close()


async def measure(
    client: Client,
    pool: asyncpg.Pool,
    api: httpx.AsyncClient,
    samples: int,
    load_rate: float,
    warmup: int,
) -> dict[str, Any]:
    accounts, echoes = await prepare(client, pool, api, samples + warmup)
    load = Load(api, load_rate)
    load.start()
    await asyncio.sleep(3 if load_rate else 0)  # the load reaches a steady state
    try:
        timed = await time_round_trips(client, api, accounts, echoes, warmup)
    finally:
        await load.stop()
    measured = accounts[warmup:]
    still_open = await _call_tasks(pool, measured, "open")
    cancelled = await _call_tasks(pool, measured, "cancelled")
    figures = {
        "payment": _figures(timed.payments),
        "bare_signal": _figures(timed.signals),
    }
    return {
        "samples": samples,
        "warmup": warmup,
        "load": {
            "target_per_second": load_rate,
            "achieved_per_second": load.achieved_rate,
            "accounts_started": load.sent - load.failed,
            "failed": load.failed,
        },
        **figures,
        "payment_over_bare_signal": {
            k: ratio(figures["payment"][k], figures["bare_signal"][k]) for k in ("p50_ms", "p99_ms")
        },
        "resolved": sum(1 for o in timed.outcomes if o == "resolved"),
        "call_tasks_cancelled": cancelled,
        "call_tasks_still_open": still_open,
    }


async def prepare(
    client: Client, pool: asyncpg.Pool, api: httpx.AsyncClient, total: int
) -> tuple[list[str], list[WorkflowHandle[Any, Any]]]:
    """The measured accounts, reported overdue and each with an open call task, and as many
    echo workflows; returns once they are all quiet."""
    accounts = [f"lat-{i:05d}" for i in range(total)]
    for account_id in accounts:
        r = await api.put(f"/v1/accounts/{account_id}/overdue", json=overdue_report(account_id))
        r.raise_for_status()
    echoes = [
        await client.start_workflow(
            EchoWorkflow.run, id=f"echo-{i:05d}", task_queue=ECHO_TASK_QUEUE
        )
        for i in range(total)
    ]

    async def open_tasks() -> int:
        return await _call_tasks(pool, accounts, "open")

    ready, _ = await wait_until(open_tasks, total, wait_seconds=120, interval=0.5)
    if ready < total:
        raise RuntimeError(f"only {ready}/{total} measured accounts have an open call task")
    await asyncio.sleep(2)  # their SMS stage (1 s) is done too: the accounts are quiet
    return accounts, echoes


@dataclass
class RoundTrips:
    payments: list[float] = field(default_factory=list)  # seconds
    signals: list[float] = field(default_factory=list)  # seconds
    outcomes: list[str] = field(default_factory=list)  # each paid account's final state


async def time_round_trips(
    client: Client,
    api: httpx.AsyncClient,
    accounts: list[str],
    echoes: list[WorkflowHandle[Any, Any]],
    warmup: int,
) -> RoundTrips:
    """One at a time, alternating: a payment until its workflow's result is in, then a bare
    signal until its echo's result is in. The first `warmup` pairs are not kept."""
    timed = RoundTrips()
    for i, account_id in enumerate(accounts):
        began = time.perf_counter()
        r = await api.post(
            f"/v1/accounts/{account_id}/payments",
            json={
                "payment_id": f"pay-{account_id}",
                "amount_minor": AMOUNT,
                "currency": "CNY",
                "paid_at": datetime.now(UTC).isoformat(),
            },
        )
        r.raise_for_status()
        outcome = await client.get_workflow_handle(
            workflow_id(account_id), result_type=AccountOutcome
        ).result()
        paid = time.perf_counter() - began
        began = time.perf_counter()
        await echoes[i].signal(EchoWorkflow.done)
        await echoes[i].result()
        signalled = time.perf_counter() - began
        if i >= warmup:
            timed.payments.append(paid)
            timed.signals.append(signalled)
            timed.outcomes.append(outcome.state.value)
    return timed


async def _call_tasks(pool: asyncpg.Pool, accounts: list[str], status: str) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM call_tasks WHERE account_id = ANY($1) AND status = $2",
        accounts,
        status,
    )
    return count


def _figures(seconds: list[float]) -> dict[str, float | None]:
    ms = [s * 1000 for s in seconds]
    return {
        "p50_ms": _r(percentile(ms, 50)),
        "p99_ms": _r(percentile(ms, 99)),
        "max_ms": _r(max(ms, default=None)),
        "mean_ms": _r(sum(ms) / len(ms) if ms else None),
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def report(data: dict[str, Any]) -> None:
    load = data["load"]
    print(
        f"latency, {data['samples']} samples each, background load "
        f"{load['achieved_per_second']} accounts/s through the API (target "
        f"{load['target_per_second']})"
    )
    rows = [
        [what, fmt(data[key]["p50_ms"]), fmt(data[key]["p99_ms"]), fmt(data[key]["max_ms"])]
        for key, what in (
            ("payment", "payment via API -> resolved, tasks cancelled"),
            ("bare_signal", "bare signal -> workflow completed"),
        )
    ]
    print_table(rows, ["path", "p50 ms", "p99 ms", "max ms"])
    r = data["payment_over_bare_signal"]
    met = r["p99_ms"] is not None and r["p99_ms"] <= TARGET_P99
    print(
        f"payment/bare signal: p50 {fmt(r['p50_ms'], 2)}x, p99 {fmt(r['p99_ms'], 2)}x "
        f"(target p99 <= {TARGET_P99}x: {'met' if met else 'NOT met'}); "
        f"resolved {data['resolved']}/{data['samples']}, call tasks cancelled "
        f"{data['call_tasks_cancelled']}, still open {data['call_tasks_still_open']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--load-rate", type=float, default=5.0, help="accounts/s; 0: no load")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    data = asyncio.run(run(args.samples, args.load_rate, args.warmup))
    report(data)
    publish_result("latency", data, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

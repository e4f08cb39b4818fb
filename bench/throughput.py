"""Throughput: start N accounts whose first stage is due now; starts/s, first-contact rate and
start-to-first-contact latency, against the same server's ceiling in the same run.

One in-memory dev server, one embedded Postgres (migrations applied). Each phase gets a fresh
worker process:

1. ceiling: a no-op workflow running one no-op activity (bench/noop.py), same sandbox runner,
   started through the same harness; "contact" = the activity ran (its wall-clock time);
2. ours: the product's wiring (workers.main.build_worker + build_sms_worker, recording SMS
   sender) on a process_start policy whose SMS stage is due at 0 s; "contact" = its row in the
   contact ledger (created_at, written before the sender is called; updated_at once sent).

Starts go through the Temporal client as the API's start does (same id, search attributes),
64 at a time; HTTP is measured by bench.latency.

    .venv/bin/python -m bench.throughput [--n 5000] [--timeout 600] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.common import fmt, percentile, print_table, publish_result, ratio
from bench.noop import NOOP_TASK_QUEUE, NoopWorkflow
from bench.stack import (
    Started,
    WorkerChild,
    embedded_postgres,
    seed_accounts,
    start_account,
    start_many,
    wait_until,
)
from workers.devstack.local_temporal import TemporalDevServer
from workflows import search_attributes as sa
from workflows.names import OVERDUE_TASK_QUEUE
from workflows.policy import Policy
from workflows.types import AccountState

FIRST_STAGE = "t0_sms"
POLICY = Policy.model_validate(
    {
        "id": "bench-throughput",
        "version": 1,
        "anchor": "process_start",
        "contact_windows": {"default": {"start": "00:00", "end": "23:59:59"}},
        "caps": {
            "sms_per_day": 100,
            "sms_per_week": 100,
            "calls_per_day": 100,
            "calls_per_7_days": 100,
            "call_quiet_days_after_conversation": 0,
        },
        "stages": [
            {"id": FIRST_STAGE, "offset": "0s", "channel": "sms", "template": "notice"},
            # A later stage keeps the account open after its first contact, as in production.
            {"id": "d30_call", "offset": "30d", "channel": "call_task", "queue": "general"},
        ],
        "templates": {
            "notice": {
                "en": "Hello {name}, {amount} {currency} was due on {due_date}. Reply STOP.",
                "zh-CN": "{name}您好，您于{due_date}到期的{amount}{currency}尚未还款。回复TD退订。",  # noqa: RUF001
            }
        },
    }
)
# As the API's start sets them.
START_SEARCH_ATTRIBUTES = TypedSearchAttributes(
    [
        SearchAttributePair(sa.OVERDUE_STATE, AccountState.ACTIVE.value),
        SearchAttributePair(sa.PRODUCT, "credit_line"),
        SearchAttributePair(sa.AMOUNT_DUE_MINOR, 150_000),
    ]
)


def summarise(
    name: str, n: int, started: list[Started], contacts: dict[str, float], start_seconds: float
) -> dict[str, Any]:
    """Figures for one phase. `contacts` maps key -> wall-clock time of its first contact."""
    called = {s.key: s.called_at for s in started if s.error is None}
    latencies = [contacts[k] - called[k] for k in called if k in contacts]
    first_call = min((s.called_at for s in started), default=0.0)
    last_contact = max(contacts.values(), default=first_call)
    span = last_contact - first_call
    return {
        "phase": name,
        "n": n,
        "start_errors": sum(1 for s in started if s.error),
        "first_start_error": next((s.error for s in started if s.error), None),
        "start_seconds": round(start_seconds, 2),
        "starts_per_second": round(n / start_seconds, 1) if start_seconds else None,
        "first_contacts": len(latencies),
        "completion_rate": round(len(latencies) / n, 4) if n else None,
        "contacts_per_second": round(len(latencies) / span, 1) if span > 0 else None,
        "seconds_first_start_to_last_contact": round(span, 1),
        "latency_p50_s": _r(percentile(latencies, 50)),
        "latency_p99_s": _r(percentile(latencies, 99)),
        "latency_max_s": _r(max(latencies, default=None)),
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


async def ceiling(
    client: Client, server: TemporalDevServer, n: int, wait_seconds: float
) -> dict[str, Any]:
    worker = await WorkerChild("noop", ["--mode", "noop", "--address", server.address]).start()
    try:
        keys = [f"noop-{i:06d}" for i in range(n)]

        async def start_one(key: str) -> object:
            return await client.start_workflow(
                NoopWorkflow.run, key, id=key, task_queue=NOOP_TASK_QUEUE
            )

        began = time.monotonic()
        started = await start_many(keys, start_one)
        start_seconds = time.monotonic() - began

        async def completed() -> int:
            query = 'WorkflowType = "BenchNoopWorkflow" AND ExecutionStatus = "Completed"'
            return (await client.count_workflows(query)).count

        await wait_until(
            completed, n, wait_seconds=wait_seconds, on_progress=_progress("ceiling", n)
        )
        contacts: dict[str, float] = {}

        async def fetch(key: str) -> object:
            handle = client.get_workflow_handle(key, result_type=float)
            described = await handle.describe()
            if described.status is not None and described.status.name == "COMPLETED":
                contacts[key] = await handle.result()
            return None

        await start_many(keys, fetch)
        result = summarise("ceiling", n, started, contacts, start_seconds)
        _add_cpu(result, worker.cpu_seconds())
        return result
    finally:
        await worker.stop()


async def ours(
    client: Client, server: TemporalDevServer, database_url: str, n: int, wait_seconds: float
) -> dict[str, Any]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    assert pool is not None
    keys = [f"tp-{i:06d}" for i in range(n)]
    await seed_accounts(pool, keys)
    worker = await WorkerChild(
        "ours", ["--mode", "real", "--address", server.address, "--database-url", database_url]
    ).start()
    try:
        due = date.today()
        began = time.monotonic()
        started = await start_many(
            keys,
            lambda key: start_account(
                client,
                key,
                due=due,
                policy=POLICY,
                task_queue=OVERDUE_TASK_QUEUE,
                search_attributes=START_SEARCH_ATTRIBUTES,
            ),
        )
        start_seconds = time.monotonic() - began

        async def contacted() -> int:
            count: int = await pool.fetchval(
                "SELECT count(*) FROM contact_ledger WHERE stage_id = $1 AND status <> 'pending'",
                FIRST_STAGE,
            )
            return count

        await wait_until(contacted, n, wait_seconds=wait_seconds, on_progress=_progress("ours", n))
        result = await first_contact_figures(pool, n, started, start_seconds)
        _add_cpu(result, worker.cpu_seconds())
        return result
    finally:
        await worker.stop()
        await pool.close()


async def first_contact_figures(
    pool: asyncpg.Pool, n: int, started: list[Started], start_seconds: float
) -> dict[str, Any]:
    """From the first stage's ledger rows: contact = the row's created_at (written before the
    sender is called); `sent` = its updated_at once sent."""
    rows = await pool.fetch(
        "SELECT account_id, created_at, updated_at, status FROM contact_ledger WHERE stage_id = $1",
        FIRST_STAGE,
    )
    created = {r["account_id"]: r["created_at"].timestamp() for r in rows}
    result = summarise("ours", n, started, created, start_seconds)
    sent = {r["account_id"]: r["updated_at"].timestamp() for r in rows if r["status"] != "pending"}
    sent_figures = summarise("ours_sent", n, started, sent, start_seconds)
    result["sent"] = {
        k: sent_figures[k]
        for k in ("first_contacts", "completion_rate", "latency_p50_s", "latency_p99_s")
    }
    result["ledger_statuses"] = dict(
        await pool.fetch(
            "SELECT status, count(*) FROM contact_ledger WHERE stage_id = $1 GROUP BY 1",
            FIRST_STAGE,
        )
    )
    return result


def _add_cpu(result: dict[str, Any], cpu_seconds: float) -> None:
    result["worker_cpu_seconds"] = round(cpu_seconds, 1)
    done = result["first_contacts"]
    result["worker_cpu_ms_per_contact"] = round(cpu_seconds * 1000 / done, 1) if done else None


def _progress(name: str, n: int) -> Any:
    last = [0.0]

    def show(value: int, elapsed: float) -> None:
        if elapsed - last[0] >= 15:
            last[0] = elapsed
            print(f"  [{name}] {value:,}/{n:,} after {elapsed:.0f} s", flush=True)

    return show


async def run(n: int, wait_seconds: float) -> dict[str, Any]:
    async with (
        embedded_postgres() as (postgres, _),
        TemporalDevServer.on_free_ports() as server,
    ):
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        print(f"ceiling: {n:,} no-op workflows", flush=True)
        base = await ceiling(client, server, n, wait_seconds)
        print(f"ours: {n:,} accounts, first SMS due at once", flush=True)
        mine = await ours(client, server, postgres.url, n, wait_seconds)
    ratios = {
        key: ratio(mine[key], base[key])
        for key in (
            "starts_per_second",
            "completion_rate",
            "contacts_per_second",
            "latency_p50_s",
            "latency_p99_s",
            "worker_cpu_ms_per_contact",
        )
    }
    return {"n": n, "ceiling": base, "ours": mine, "ours_over_ceiling": ratios}


def report(data: dict[str, Any]) -> None:
    keys = [
        ("starts_per_second", "starts/s"),
        ("completion_rate", "first-contact rate"),
        ("contacts_per_second", "contacts/s"),
        ("latency_p50_s", "p50 start->contact s"),
        ("latency_p99_s", "p99 start->contact s"),
        ("worker_cpu_ms_per_contact", "worker CPU ms/contact"),
    ]
    rows = [
        [
            label,
            fmt(data["ours"][k], 3),
            fmt(data["ceiling"][k], 3),
            fmt(data["ours_over_ceiling"][k], 2),
        ]
        for k, label in keys
    ]
    print(
        f"throughput, N={data['n']:,} (dev server, in memory; ceiling = no-op workflow + activity)"
    )
    print_table(rows, ["figure", "ours", "ceiling", "ours/ceiling"])
    sent = data["ours"].get("sent", {})
    print(
        f"ours, until the ledger row is sent: p50 {fmt(sent.get('latency_p50_s'), 3)} s, "
        f"p99 {fmt(sent.get('latency_p99_s'), 3)} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, default=2_000, help="accounts per phase (issue: 5,000, ~8 min here)"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait per phase")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    data = asyncio.run(run(args.n, args.timeout))
    report(data)
    publish_result("throughput", data, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

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

`--workers 1,2,4` repeats both phases with 1, 2 and 4 worker PROCESSES polling the same task
queues, each count on a fresh dev server and Postgres (bench/throughput_scaling.py: the CPU of
the server, Postgres and this process beside the workers', and the N-process / 1-process
ratios).

`--profile DIR` writes a py-spy flame graph of each phase's first worker process to DIR
(bench/profile.py) and prints where its CPU went.

    .venv/bin/python -m bench.throughput [--n 5000] [--workers 1,2,4] [--timeout 600] [--out FILE]
                                         [--profile DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.common import fmt, percentile, publish_result
from bench.noop import NOOP_TASK_QUEUE, NoopWorkflow
from bench.profile import report_profile, start_profiler, stop_profiler
from bench.stack import (
    Started,
    WorkerChild,
    embedded_postgres,
    seed_accounts,
    start_account,
    start_many,
    wait_until,
)
from bench.throughput_scaling import (
    add_others,
    against_ceiling,
    others_cpu,
    report_run,
    report_scaling,
    scaling,
)
from overdue.store import policy_versions
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
    client: Client,
    server: TemporalDevServer,
    n: int,
    wait_seconds: float,
    processes: int = 1,
    profile: Path | None = None,
) -> dict[str, Any]:
    args = ["--mode", "noop", "--address", server.address]
    workers = await start_workers("noop", args, processes)
    at_ready = [w.cpu_seconds() for w in workers]
    profiler = await start_profiler(workers[0].pid, profile, f"ceiling-{processes}p")
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
        _add_cpu(result, workers, at_ready)
        result["profile"] = await stop_profiler(profiler)
        return result
    finally:
        await stop_profiler(profiler)
        await stop_workers(workers)


async def ours(
    client: Client,
    server: TemporalDevServer,
    database_url: str,
    n: int,
    wait_seconds: float,
    processes: int = 1,
    profile: Path | None = None,
) -> dict[str, Any]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    assert pool is not None
    keys = [f"tp-{i:06d}" for i in range(n)]
    await seed_accounts(pool, keys)
    ref = await policy_versions.keep(pool, POLICY)  # stored, as the API does before a start
    args = ["--mode", "real", "--address", server.address, "--database-url", database_url]
    workers = await start_workers("ours", args, processes)
    at_ready = [w.cpu_seconds() for w in workers]
    profiler = await start_profiler(workers[0].pid, profile, f"ours-{processes}p")
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
                policy_ref=ref,
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
        _add_cpu(result, workers, at_ready)
        result["profile"] = await stop_profiler(profiler)
        return result
    finally:
        await stop_profiler(profiler)
        await stop_workers(workers)
        await pool.close()


async def start_workers(name: str, args: list[str], processes: int) -> list[WorkerChild]:
    """`processes` worker processes polling the same task queues, all ready before any start."""
    children = [WorkerChild(f"{name}-{i}", args) for i in range(processes)]
    ready = await asyncio.gather(*(c.start() for c in children), return_exceptions=True)
    failed = [r for r in ready if isinstance(r, BaseException)]
    if failed:
        await stop_workers(children)
        raise failed[0]
    return children


async def stop_workers(children: list[WorkerChild]) -> None:
    await asyncio.gather(*(c.stop() for c in children), return_exceptions=True)


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


def _add_cpu(result: dict[str, Any], workers: list[WorkerChild], at_ready: list[float]) -> None:
    """Worker CPU from READY on, summed over the processes (user + system), and per first
    contact: the start-up (imports, connecting; ~2 s a process here) is counted apart, or
    more processes would look dearer per contact at a small N."""
    per_process = [w.cpu_seconds() - ready for w, ready in zip(workers, at_ready, strict=True)]
    cpu_seconds = sum(per_process)
    result["worker_processes"] = len(workers)
    result["worker_start_up_cpu_seconds"] = round(sum(at_ready), 1)
    result["worker_cpu_seconds_per_process"] = [round(c, 1) for c in per_process]
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


async def run_processes(
    n: int, wait_seconds: float, processes: int, profile: Path | None = None
) -> dict[str, Any]:
    """Both phases with `processes` worker processes, on a fresh dev server and Postgres."""
    load = round(os.getloadavg()[0], 2)
    async with (
        embedded_postgres() as (postgres, _),
        TemporalDevServer.on_free_ports() as server,
    ):
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        print(f"ceiling: {n:,} no-op workflows, {processes} worker process(es)", flush=True)
        with others_cpu(server.pid, postgres.pid) as spent:
            base = await ceiling(client, server, n, wait_seconds, processes, profile)
        add_others(base, spent)
        print(f"ours: {n:,} accounts, first SMS due at once, {processes} process(es)", flush=True)
        with others_cpu(server.pid, postgres.pid) as spent:
            mine = await ours(client, server, postgres.url, n, wait_seconds, processes, profile)
        add_others(mine, spent)
    return {
        "processes": processes,
        "load_average_1min_at_start": load,
        "ceiling": base,
        "ours": mine,
        "ours_over_ceiling": against_ceiling(mine, base),
    }


async def run(
    n: int, wait_seconds: float, workers: list[int] | None = None, profile: Path | None = None
) -> dict[str, Any]:
    runs = [await run_processes(n, wait_seconds, p, profile) for p in workers or [1]]
    first = runs[0]
    return {
        "n": n,
        "workers": [r["processes"] for r in runs],
        # The first run's figures at the top, as before --workers (docs/benchmarks.md's table).
        "ceiling": first["ceiling"],
        "ours": first["ours"],
        "ours_over_ceiling": first["ours_over_ceiling"],
        "runs": runs,
        "scaling": scaling(runs),
    }


def report(data: dict[str, Any]) -> None:
    for run_figures in data["runs"]:
        report_run(run_figures, data["n"])
        for phase in ("ceiling", "ours"):
            report_profile(phase, run_figures[phase].get("profile"))
        sent = run_figures["ours"].get("sent", {})
        print(
            f"ours, until the ledger row is sent: p50 {fmt(sent.get('latency_p50_s'), 3)} s, "
            f"p99 {fmt(sent.get('latency_p99_s'), 3)} s"
        )
    report_scaling(data)


def worker_counts(text: str) -> list[int]:
    """`1,2,4` -> [1, 2, 4]: each a number of worker processes, 1 to 16, no repeats."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from err
    if not counts or len(set(counts)) != len(counts) or not all(1 <= c <= 16 for c in counts):
        raise argparse.ArgumentTypeError(f"want distinct counts from 1 to 16, got {text!r}")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, default=2_000, help="accounts per phase (issue: 5,000, ~8 min here)"
    )
    parser.add_argument(
        "--workers",
        type=worker_counts,
        default=[1],
        help="worker processes per run, e.g. 1,2,4 (each count: both phases, fresh stack)",
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait per phase")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="write a py-spy flame graph of each phase's first worker to DIR (bench/profile.py)",
    )
    args = parser.parse_args(argv)
    data = asyncio.run(run(args.n, args.timeout, args.workers, args.profile))
    report(data)
    publish_result("throughput", data, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

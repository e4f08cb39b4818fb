"""A worker in its own process, so its RSS and CPU are its own (bench/stack.py spawns it).

    python -m bench.worker_proc --mode standin|real|noop|holder --address HOST:PORT [--task-queue Q]
        [--max-cached N] [--database-url URL] [--sms-rate R] [--echo] [--policy-file F]

- standin: OverdueAccountWorkflow with the stand-in activities of tests/workflows/harness.py;
- real: the product's wiring, workers.main.build_worker and build_sms_worker, with a pool on
  --database-url and the recording SMS sender (--echo adds bench.noop's echo workflow on its
  own queue, in the same process: bench.latency's baseline);
- noop: bench.noop's workflow and activity, same sandbox runner (the ceiling);
- holder: bench.noop's holder workflow on --task-queue (bench.memory's baseline).

Starts name their policy by digest (workflows/policy_shelf.py): the real mode reads versions
from Postgres through the product's codec (workers/policy_codec.py); the others, which have no
database, shelve --policy-file at start, as a worker that had read it would have it.

Prints READY once polling, then runs until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import signal
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

if TYPE_CHECKING:
    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

READY = "READY"


async def serve(args: argparse.Namespace) -> None:
    import asyncpg

    from overdue.db import keep_session
    from workers.policy_codec import PolicyShelfCodec

    if args.policy_file:
        from overdue.policy_files import load_policy
        from workflows.policy_shelf import shelve

        shelve(load_policy(args.policy_file))
    pool = None
    if args.mode == "real":
        pool = await asyncpg.create_pool(
            args.database_url, min_size=1, max_size=args.pool_size, reset=keep_session
        )
    converter = dataclasses.replace(
        pydantic_data_converter, payload_codec=PolicyShelfCodec(pool) if pool else None
    )
    client = await Client.connect(args.address, namespace=args.namespace, data_converter=converter)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    cache: dict[str, Any] = {}
    if args.max_cached is not None:
        cache["max_cached_workflows"] = args.max_cached
    async with AsyncExitStack() as stack:
        if pool is not None:
            stack.push_async_callback(pool.close)
        for worker in await build(args, client, stack, cache, pool):
            await stack.enter_async_context(worker)
        print(READY, flush=True)
        await stop.wait()


async def build(
    args: argparse.Namespace,
    client: Client,
    stack: AsyncExitStack,
    cache: dict[str, Any],
    pool: Any = None,
) -> list[Worker]:
    if args.mode == "noop":
        return noop_workers(args, client, cache)
    if args.mode == "holder":
        return holder_workers(args, client, cache)
    if args.mode == "standin":
        return standin_workers(args, client, cache)
    return await real_workers(args, client, stack, pool)


def baseline_runner() -> SandboxedWorkflowRunner:
    """The product's runner with the baselines' own module passed through as well, as the
    product's workflow code is (workers/sandbox.py): a baseline re-imported per instance would
    be a ceiling lowered by work the product no longer does."""
    from workers.sandbox import workflow_runner

    runner = workflow_runner()
    restrictions = runner.restrictions.with_passthrough_modules("bench.noop")
    return dataclasses.replace(runner, restrictions=restrictions)


def noop_workers(args: argparse.Namespace, client: Client, cache: dict[str, Any]) -> list[Worker]:
    from bench.noop import NOOP_TASK_QUEUE, NoopWorkflow, noop_activity

    return [
        Worker(
            client,
            task_queue=args.task_queue or NOOP_TASK_QUEUE,
            workflows=[NoopWorkflow],
            activities=[noop_activity],
            workflow_runner=baseline_runner(),
            **cache,
        )
    ]


def holder_workers(args: argparse.Namespace, client: Client, cache: dict[str, Any]) -> list[Worker]:
    from bench.noop import HolderWorkflow

    return [
        Worker(
            client,
            task_queue=args.task_queue,
            workflows=[HolderWorkflow],
            workflow_runner=baseline_runner(),
            **cache,
        )
    ]


def standin_workers(
    args: argparse.Namespace, client: Client, cache: dict[str, Any]
) -> list[Worker]:
    from tests.workflows.harness import Recorder
    from workers.sandbox import workflow_runner
    from workflows.names import OVERDUE_TASK_QUEUE, SMS_TASK_QUEUE
    from workflows.overdue_account import OverdueAccountWorkflow

    activities = Recorder().activities()
    sms = [a for a in activities if a.__name__ == "send_sms"]
    return [
        Worker(
            client,
            task_queue=args.task_queue or OVERDUE_TASK_QUEUE,
            workflows=[OverdueAccountWorkflow],
            activities=activities,
            workflow_runner=workflow_runner(),
            **cache,
        ),
        Worker(client, task_queue=SMS_TASK_QUEUE, activities=sms),
    ]


async def real_workers(
    args: argparse.Namespace, client: Client, stack: AsyncExitStack, pool: Any
) -> list[Worker]:
    from activities.sms_senders import RecordingSmsSender
    from workers.main import build_sms_worker, build_worker

    assert pool is not None
    sender = RecordingSmsSender()
    extra = [echo_worker(client)] if args.echo else []
    # The recording sender logs every message at INFO; keep the benchmark's output quiet.
    import logging

    logging.getLogger("activities").setLevel(logging.WARNING)
    return [
        build_worker(client, pool),
        build_sms_worker(client, pool, sender, rate_per_second=args.sms_rate),
        *extra,
    ]


def echo_worker(client: Client) -> Worker:
    """In the same process and event loop as the product's workers: the bare signal round trip
    (bench.latency's baseline) sees the same load."""
    from bench.noop import ECHO_TASK_QUEUE, EchoWorkflow

    return Worker(
        client,
        task_queue=ECHO_TASK_QUEUE,
        workflows=[EchoWorkflow],
        workflow_runner=baseline_runner(),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("standin", "real", "noop", "holder"), required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--task-queue", default=None)
    parser.add_argument("--max-cached", type=int, default=None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--sms-rate", type=float, default=1000.0)
    parser.add_argument("--echo", action="store_true", help="real mode: add bench.noop's echo")
    parser.add_argument("--policy-file", type=Path, default=None, help="shelve it at start")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()

"""Pieces the live benchmarks share: worker child processes, bulk starts, polling waits."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import psutil

from workers.devstack.local_postgres import LocalPostgres
from workers.devstack.processes import ChildProcess

if TYPE_CHECKING:
    from temporalio.client import Client
    from temporalio.common import TypedSearchAttributes

    from workflows.policy import Policy
    from workflows.policy_shelf import PolicyRef
    from workflows.types import OverdueAccountInput

# Enough to keep the server busy, few enough that one Python process keeps up.
START_CONCURRENCY = 64


@dataclass
class WorkerChild:
    """`python -m bench.worker_proc ...` as a child process, its output kept for errors."""

    name: str
    args: list[str]
    child: ChildProcess | None = None
    lines: list[str] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, ready_within: float = 90.0) -> WorkerChild:
        argv = [sys.executable, "-m", "bench.worker_proc", *self.args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.child = await ChildProcess.spawn(self.name, argv, on_line=self._line, env=env)
        deadline = time.monotonic() + ready_within
        while not self.ready.is_set():
            if self.child.returncode is not None or time.monotonic() > deadline:
                tail = "\n".join(self.lines[-30:])
                raise RuntimeError(f"worker {self.name} did not start:\n{tail}")
            await asyncio.sleep(0.05)
        return self

    def _line(self, line: str) -> None:
        if line.strip() == "READY":
            self.ready.set()
            return
        self.lines.append(line)
        if len(self.lines) > 2000:
            del self.lines[:1000]

    @property
    def pid(self) -> int:
        assert self.child is not None
        return self.child.pid

    def rss_mb(self) -> float:
        return psutil.Process(self.pid).memory_info().rss / 2**20

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.pid).cpu_times()
        return times.user + times.system

    async def kill(self) -> None:
        import signal

        if self.child is not None and self.child.returncode is None:
            await self.child.stop(grace=0.1, sig=signal.SIGKILL)

    async def stop(self, grace: float = 10.0) -> None:
        if self.child is not None:
            await self.child.stop(grace)


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and its children (the dev server forks nothing, but be safe)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


@dataclass(frozen=True)
class Started:
    key: str
    called_at: float  # wall clock just before the start call
    returned_at: float
    error: str | None = None


async def start_many(
    keys: Sequence[str],
    start_one: Callable[[str], Awaitable[object]],
    concurrency: int = START_CONCURRENCY,
) -> list[Started]:
    """Call `start_one(key)` for every key, `concurrency` at a time; time each call."""
    queue = list(reversed(keys))
    done: list[Started] = []

    async def lane() -> None:
        while queue:
            key = queue.pop()
            called = time.time()
            error = None
            try:
                await start_one(key)
            except Exception as err:  # counted, not fatal: the rate figure must stay honest
                error = f"{type(err).__name__}: {err}"[:200]
            done.append(Started(key, called, time.time(), error))

    await asyncio.gather(*(lane() for _ in range(min(concurrency, len(keys)) or 1)))
    return done


def account_input(
    key: str, due: date, policy: Policy, policy_ref: PolicyRef | None = None
) -> OverdueAccountInput:
    """A benchmark account's start input (150,000 CNY on a credit line, a customer in
    Asia/Shanghai, CN rules), on this code's release as the API starts it."""
    from workflows.patches import RELEASES
    from workflows.types import OverdueAccountInput

    return OverdueAccountInput(
        account_id=key,
        product="credit_line",
        amount_due_minor=150_000,
        currency="CNY",
        due_date=due,
        time_zone="Asia/Shanghai",
        jurisdiction="CN",
        policy=policy,
        policy_ref=policy_ref,  # by digest, as the API starts (None: whole)
        release=max(RELEASES),
    )


async def start_account(
    client: Client,
    key: str,
    *,
    due: date,
    policy: Policy,
    task_queue: str,
    search_attributes: TypedSearchAttributes | None = None,
    policy_ref: PolicyRef | None = None,
    workflow: str = "OverdueAccountWorkflow",
) -> object:
    """Start one benchmark account's workflow (150,000 CNY on a credit line, a customer in
    Asia/Shanghai, CN rules), id as the API gives it: a `start_one` for start_many."""
    from workflows.names import workflow_id
    from workflows.overdue_account import OverdueAccountWorkflow
    from workflows.publishing import start_attributes

    input = account_input(key, due, policy, policy_ref)
    return await client.start_workflow(
        OverdueAccountWorkflow.run if workflow == "OverdueAccountWorkflow" else workflow,
        input,
        id=workflow_id(key),
        task_queue=task_queue,
        search_attributes=search_attributes or start_attributes(input),
    )


async def wait_until(
    probe: Callable[[], Awaitable[int]],
    target: int,
    *,
    wait_seconds: float,
    interval: float = 1.0,
    on_progress: Callable[[int, float], None] | None = None,
) -> tuple[int, float]:
    """Poll `probe()` until it reaches `target` or `wait_seconds` pass: (last value, seconds)."""
    began = time.monotonic()
    value = 0
    while True:
        value = await probe()
        elapsed = time.monotonic() - began
        if on_progress:
            on_progress(value, elapsed)
        if value >= target or elapsed >= wait_seconds:
            return value, elapsed
        await asyncio.sleep(interval)


class RssSampler:
    """Samples a process's RSS in the background; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_mb = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            try:
                self.peak_mb = max(self.peak_mb, psutil.Process(self.pid).memory_info().rss / 2**20)
            except psutil.NoSuchProcess:
                return
            await asyncio.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()


def temporary_folder(prefix: str, parent: Path | None = None) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    folder.chmod(0o755)  # as root, embedded Postgres runs as its own system user
    return folder


@asynccontextmanager
async def embedded_postgres(
    parent: Path | None = None,
) -> AsyncIterator[tuple[LocalPostgres, Path]]:
    """An embedded Postgres with the migrations applied, in a temporary folder (removed after)."""
    from overdue.migrate import upgrade_async
    from workers.devstack.local_postgres import start_local_postgres_async

    folder = temporary_folder("bench-", parent)
    server = await start_local_postgres_async(folder / "pg" / "data")
    try:
        await upgrade_async(server.url)
        yield server, folder
    finally:
        await server.stop_async()
        shutil.rmtree(folder, ignore_errors=True)


async def seed_accounts(
    pool: asyncpg.Pool,
    account_ids: Sequence[str],
    *,
    phone: str = "+8613800138000",
    time_zone: str = "Asia/Shanghai",
    locale: str = "zh-CN",
) -> None:
    """Rows the activities read at send time (what the API's overdue report stores)."""
    async with pool.acquire() as conn:
        await conn.copy_records_to_table(
            "accounts",
            records=[(a, "credit_line", "CNY") for a in account_ids],
            columns=["account_id", "product", "currency"],
        )
        await conn.copy_records_to_table(
            "customer_contacts",
            records=[(a, f"Customer {a[-4:]}", phone, time_zone, locale) for a in account_ids],
            columns=["account_id", "full_name", "phone_e164", "time_zone", "locale"],
        )

"""Shared helpers for the benchmark scripts: results, machine facts, percentiles, binaries,
and the API stack of a benchmark that talks HTTP."""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def venv_binary(name: str) -> str:
    """A console script installed beside this interpreter (or on PATH); never downloaded."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: run `make env` (it comes from the lock file)")
    return found


def machine() -> dict[str, Any]:
    """What the figures were measured on (the machine is shared: load matters)."""
    import temporalio

    return {
        "nproc": os.cpu_count(),
        "memory_total_mb": round(psutil.virtual_memory().total / 2**20),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "temporalio": temporalio.__version__,
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }


def write_result(name: str, data: dict[str, Any], out: Path | None = None) -> Path:
    """Write `data` (plus the machine and a timestamp) as JSON; return the path."""
    path = out or RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **data,
    }
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ratio(ours: float | None, baseline: float | None) -> float | None:
    if ours is None or baseline is None or baseline == 0:
        return None
    return round(ours / baseline, 3)


def fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """`with stopwatch() as t: ...` then t[0] is the elapsed seconds."""
    elapsed: list[float] = [0.0]
    started = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed[0] = time.perf_counter() - started


def rss_mb(pid: int | None = None) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def print_table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> None:
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        print(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def publish_result(name: str, data: dict[str, Any], out: Path | None) -> None:
    """Write the result (write_result) and say where: the last line of every benchmark."""
    print(f"result written to {write_result(name, data, out)}")


if TYPE_CHECKING:
    from overdue.settings import Settings
    from workers.devstack.local_temporal import TemporalDevServer


def api_settings(
    database_url: str, temporal: TemporalDevServer, policy_file: Path, **extra: Any
) -> Settings:
    """The product's settings against this Postgres and dev server, the API on a free port."""
    from overdue.ports import free_tcp_ports
    from overdue.settings import Settings

    (api_port,) = free_tcp_ports(1)
    return Settings(
        database_url=database_url,
        temporal_host=temporal.host,
        temporal_port=temporal.port,
        temporal_ui_port=temporal.ui_port,
        api_port=api_port,
        policy_file=policy_file,
        **extra,
    )


async def mint_api_key(database_url: str, label: str) -> str:
    """A Bearer key with every scope, named `label-` and a random suffix."""
    import uuid

    import asyncpg

    from overdue.store.api_keys import ALL_SCOPES, add_key

    conn = await asyncpg.connect(database_url)
    try:
        _, key = await add_key(conn, f"{label}-{uuid.uuid4().hex[:8]}", ALL_SCOPES)
    finally:
        await conn.close()
    return key


@asynccontextmanager
async def api_server(settings: Settings) -> AsyncIterator[None]:
    """The product's API (api.app.create_app) served by uvicorn in this process, on
    `settings.api_port`, until the block ends."""
    import asyncio

    import uvicorn

    from api.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()  # raises the start-up error
            await asyncio.sleep(0.05)
        yield
    finally:
        server.should_exit = True
        await serving


@dataclass(frozen=True)
class ApiStack:
    api_url: str
    key: str  # a Bearer key with every scope
    database_url: str
    temporal_address: str


@asynccontextmanager
async def api_stack(policy_file: Path, *, echo: bool = False) -> AsyncIterator[ApiStack]:
    """tests/integration/conftest.py's stack, for a benchmark: an in-memory dev server, an
    embedded Postgres (migrations applied), the product's worker in its own process
    (bench.worker_proc --mode real, with the no-op echo workflow too when `echo`), the API
    served by uvicorn in this one. (Imports here: this module stays light.)"""
    from bench.stack import WorkerChild, embedded_postgres
    from workers.devstack.local_temporal import TemporalDevServer

    async with embedded_postgres() as (postgres, _), TemporalDevServer.on_free_ports() as server:
        settings = api_settings(postgres.url, server, policy_file)
        key = await mint_api_key(postgres.url, "bench")
        args = ["--mode", "real", "--address", server.address, "--database-url", postgres.url]
        worker = await WorkerChild("worker", [*args, *(["--echo"] if echo else [])]).start()
        try:
            async with api_server(settings):
                yield ApiStack(settings.api_url, key, postgres.url, server.address)
        finally:
            await worker.stop()

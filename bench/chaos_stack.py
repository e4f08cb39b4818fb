"""The chaos run's stack and its fault injection. On loopback in a temporary folder: the
Temporal dev server with a SQLite file, an embedded Postgres, the fake Twilio (failing a share
of API calls), a receiver for the `notify` webhooks, and the worker as a subprocess (so it can
be SIGKILLed). `disrupt` kills the worker and the dev server and restarts Postgres on schedule.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.chaos_load import Timeline
from bench.common import ROOT, api_settings
from overdue.migrate import upgrade_async
from overdue.ports import free_tcp_ports
from overdue.settings import Settings
from workers.devstack.local_postgres import LocalPostgres, start_local_postgres_async
from workers.devstack.local_temporal import TemporalDevServer
from workers.devstack.processes import ChildProcess
from workers.fakes.twilio import FakeTwilio, FaultPlan

POLICY_FILE = ROOT / "bench" / "policies" / "chaos.yaml"
ACCOUNT_SID = "AC" + "c" * 32
AUTH_TOKEN = "bench-chaos-auth-token"  # noqa: S105 - the local fake's, not a secret
FROM_NUMBER = "+15005550006"
NOTIFY_SECRET = "bench-chaos-notify-secret"  # noqa: S105 - a local receiver's
READY_LINE = "worker polling task queues"


class NotifyReceiver:
    """The backend's side of `notify` webhooks: records every delivery, answers 200."""

    def __init__(self) -> None:
        self.deliveries: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _receive(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.deliveries.append(
            {
                "key": request.headers.get(
                    "X-Overdue-Idempotency-Key", body.get("idempotency_key")
                ),
                "account_id": body.get("account_id"),
                "stage_id": body.get("stage_id"),
                "kind": body.get("kind"),
                "received_at": datetime.now(UTC),
            }
        )
        return web.json_response({"ok": True})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/notify", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        (port,) = free_tcp_ports(1)
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/notify"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()


class WorkerProcess:
    """`python -m workers.cli.main worker`, restartable, SIGKILLable; output kept in a log file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log.open("a")
        self.child: ChildProcess | None = None
        self._ready = asyncio.Event()

    def _line(self, line: str) -> None:
        self.log.write(line + "\n")
        if READY_LINE in line:
            self._ready.set()

    async def start(self, within: float = 90) -> None:
        self._ready = asyncio.Event()
        argv = [sys.executable, "-m", "workers.cli.main", "worker"]
        self.child = await ChildProcess.spawn("worker", argv, on_line=self._line, env=self.env)
        try:
            await asyncio.wait_for(self._ready.wait(), within)
        except TimeoutError:
            raise RuntimeError(f"worker not ready in {within} s; see {self.log.name}") from None

    async def kill(self) -> None:
        if self.child is not None and self.child.returncode is None:
            await self.child.stop(grace=0.1, sig=signal.SIGKILL)

    async def stop(self) -> None:
        if self.child is not None:
            await self.child.stop(grace=15)
        self.log.close()


@dataclass
class Stack:
    folder: Path
    postgres: LocalPostgres
    temporal: TemporalDevServer
    worker: WorkerProcess
    fake: FakeTwilio
    receiver: NotifyReceiver
    settings: Settings


async def start_stack(folder: Path, fault_rate: float, seed: int) -> Stack:
    """Postgres (migrated), the dev server on its SQLite file, the fake Twilio and the notify
    receiver, started; the worker configured against them but not yet started."""
    postgres = await start_local_postgres_async(folder / "pg" / "data")
    await upgrade_async(postgres.url)
    temporal = TemporalDevServer.on_free_ports(db_file=folder / "temporal.sqlite")
    await temporal.start()
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, faults=FaultPlan(rate=fault_rate, seed=seed))
    await fake.start()
    receiver = NotifyReceiver()
    await receiver.start()
    settings = api_settings(
        postgres.url,
        temporal,
        POLICY_FILE,
        sms_sender="twilio",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from=FROM_NUMBER,
        twilio_api_base=fake.url,
        notify_url=receiver.url,
        notify_secret=NOTIFY_SECRET,
    )
    worker = WorkerProcess(worker_env(settings, postgres.url), folder / "worker.log")
    return Stack(folder, postgres, temporal, worker, fake, receiver, settings)


async def stop_stack(stack: Stack) -> None:
    await stack.worker.stop()
    await stack.receiver.stop()
    await stack.fake.stop()
    await stack.temporal.stop()
    await stack.postgres.stop_async()


def worker_env(settings: Settings, database_url: str, log_level: str = "INFO") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERDUE_")}
    env.update(
        {
            "DATABASE_URL": database_url,
            "OVERDUE_TEMPORAL_HOST": settings.temporal_host,
            "OVERDUE_TEMPORAL_PORT": str(settings.temporal_port),
            "OVERDUE_SMS_SENDER": "twilio",
            "OVERDUE_SMS_RATE_PER_SECOND": "100",
            "OVERDUE_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "OVERDUE_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "OVERDUE_TWILIO_FROM": FROM_NUMBER,
            "OVERDUE_TWILIO_API_BASE": settings.twilio_api_base,
            "OVERDUE_PUBLIC_BASE_URL": settings.api_url,
            "OVERDUE_NOTIFY_URL": settings.notify_url or "",
            "OVERDUE_NOTIFY_SECRET": NOTIFY_SECRET,
            "OVERDUE_LOG_LEVEL": log_level,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


async def disrupt(stack: Stack, timeline: Timeline, start_seconds: float) -> None:
    """The disruptions, at their offsets from the first start; they scale with the time the
    starts are spread over (120 s: the worker killed at 30, 80, 140 and 200 s, the dev server
    at 110 s, Postgres restarted at 170 s)."""
    scale = start_seconds / 120
    kills = [30 * scale, 80 * scale, 140 * scale, 200 * scale]
    plan = sorted(
        [(t, "kill_worker") for t in kills]
        + [(110 * scale, "restart_temporal"), (170 * scale, "restart_postgres")]
    )
    for at, what in plan:
        await asyncio.sleep(max(0.0, at - (time.monotonic() - timeline.t0)))
        if what == "kill_worker":
            await kill_worker(stack, timeline)
        elif what == "restart_temporal":
            await kill_temporal(stack, timeline)
        else:
            await restart_postgres(stack, timeline)


async def kill_worker(stack: Stack, timeline: Timeline) -> None:
    await stack.worker.kill()
    timeline.log("worker SIGKILLed")
    await asyncio.sleep(2)
    await stack.worker.start()
    timeline.log("worker restarted")


async def kill_temporal(stack: Stack, timeline: Timeline) -> None:
    await stack.temporal.child.stop(grace=0.1, sig=signal.SIGKILL)
    timeline.log("temporal dev server SIGKILLed")
    await asyncio.sleep(2)
    await stack.temporal.start()
    timeline.log("temporal dev server restarted (same SQLite file)")


async def restart_postgres(stack: Stack, timeline: Timeline) -> None:
    url = stack.postgres.url
    await stack.postgres.stop_async()
    timeline.log("postgres stopped")
    await asyncio.sleep(2)
    stack.postgres = await start_local_postgres_async(stack.postgres.data_dir)
    if stack.postgres.url != url:
        raise RuntimeError("postgres came back on another address")
    timeline.log("postgres restarted")

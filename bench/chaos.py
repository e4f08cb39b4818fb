"""Chaos: N accounts on a demo-like policy with random payments while the worker is SIGKILLed
several times, the dev server (persistent SQLite file) and Postgres are restarted once each,
and the fake Twilio fails 20% of API calls; then bench.chaos_check proves from the ledger, the
provider and the histories that nothing was missed, duplicated, sent after resolution, outside
a window or over a cap. It prints each count; all must be 0.

The stack, on loopback in a temporary folder: the Temporal dev server with a SQLite file, an
embedded Postgres, the fake Twilio (workers.fakes.twilio, in this process), a receiver for the
`notify` webhooks (this process), the API (uvicorn, this process; accounts and payments go
through it, retried like a backend would), and the worker as `python -m workers.cli.main worker`
(a subprocess, so it can be SIGKILLed), with the Twilio sender pointed at the fake.

    .venv/bin/python -m bench.chaos [--n 1000] [--seed 7] [--keep] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import pickle
import random
import shutil
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import asyncpg
import httpx
from aiohttp import web
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.chaos_check import Evidence, check, parse_history
from bench.common import ROOT, api_server, write_result
from bench.stack import temporary_folder
from overdue.migrate import upgrade_async
from overdue.ports import free_tcp_ports
from overdue.settings import Settings
from overdue.store.api_keys import ALL_SCOPES, add_key
from workers.devstack.local_postgres import LocalPostgres, start_local_postgres_async
from workers.devstack.local_temporal import TemporalDevServer
from workers.devstack.processes import ChildProcess
from workers.fakes.twilio import FakeTwilio, FaultPlan
from workflows import search_attributes as sa
from workflows.names import workflow_id
from workflows.overdue_account import OverdueAccountWorkflow

POLICY_FILE = ROOT / "bench" / "policies" / "chaos.yaml"
ACCOUNT_SID = "AC" + "c" * 32
AUTH_TOKEN = "bench-chaos-auth-token"  # noqa: S105 - the local fake's, not a secret
FROM_NUMBER = "+15005550006"
NOTIFY_SECRET = "bench-chaos-notify-secret"  # noqa: S105 - a local receiver's
AMOUNT = 150_000
READY_LINE = "worker polling task queues"


@dataclass
class Account:
    account_id: str
    phone: str
    time_zone: str
    inside_window: bool
    pay_after: float | None  # seconds after its start
    pay_amount: int
    started_at: float | None = None
    paid_at: float | None = None
    payment_status: int | None = None


@dataclass
class Timeline:
    t0: float = field(default_factory=time.monotonic)
    events: list[dict[str, Any]] = field(default_factory=list)

    def log(self, event: str, **details: Any) -> None:
        entry = {"t": round(time.monotonic() - self.t0, 1), "event": event, **details}
        self.events.append(entry)
        print(f"  t={entry['t']:6.1f}s {event} {details or ''}", flush=True)


# --- the world ----------------------------------------------------------------------------


def pick_zones(rng: random.Random, now: datetime) -> tuple[list[str], list[str]]:
    """Zones where the 08:00-22:00 window is open for the next hour, and where it stays shut."""
    inside, outside = [], []
    for name in sorted(available_timezones()):
        if not name.count("/") or name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            continue
        local = now.astimezone(ZoneInfo(name)).time()
        minutes = local.hour * 60 + local.minute
        if 8 * 60 + 30 <= minutes <= 20 * 60 + 30:
            inside.append(name)
        elif 60 <= minutes <= 6 * 60:
            outside.append(name)
    if not inside or not outside:
        raise RuntimeError("no time zones found on both sides of the window")
    return inside, outside


def make_accounts(n: int, rng: random.Random) -> list[Account]:
    inside, outside = pick_zones(rng, datetime.now(UTC))
    accounts = []
    for i in range(n):
        is_inside = rng.random() < 0.8
        roll = rng.random()
        if roll < 0.5:  # pays in full, some time during its lifecycle
            pay_after, amount = rng.uniform(5, 200), AMOUNT
        elif roll < 0.65:  # pays half, never the rest
            pay_after, amount = rng.uniform(5, 150), AMOUNT // 2
        else:
            pay_after, amount = None, 0
        accounts.append(
            Account(
                account_id=f"chaos-{i:05d}",
                phone=f"+86139{i:08d}",  # one number per account: provider messages map back
                time_zone=rng.choice(inside if is_inside else outside),
                inside_window=is_inside,
                pay_after=pay_after,
                pay_amount=amount,
            )
        )
    return accounts


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


# --- the run ------------------------------------------------------------------------------


async def with_retries(
    send: Any, final: tuple[int, ...], timeline: Timeline, what: str, deadline: float = 240
) -> int | None:
    """Call like a backend does: retry on 5xx and connection errors until a final answer.

    Returns the final status code (one of `final`), or None when it gave up or was refused.
    """
    give_up = time.monotonic() + deadline
    delay = 0.5
    while time.monotonic() < give_up:
        try:
            response = await send()
            if response.status_code in final:
                return int(response.status_code)
            if response.status_code < 500:
                timeline.log(
                    "request refused",
                    request=what,
                    status=response.status_code,
                    body=response.text[:200],
                )
                return None
        except httpx.HTTPError:
            pass
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5)
    timeline.log("request gave up", request=what)
    return None


async def drive_account(
    api: httpx.AsyncClient, account: Account, start_at: float, timeline: Timeline
) -> None:
    await asyncio.sleep(max(0.0, start_at - (time.monotonic() - timeline.t0)))
    report = {
        "customer": {
            "name": f"Customer {account.account_id[-5:]}",
            "phone": account.phone,
            "time_zone": account.time_zone,
            "locale": "en",
        },
        "product": "credit_line",
        "amount_due": {"amount_minor": AMOUNT, "currency": "CNY"},
        "due_date": date.today().isoformat(),
    }
    url = f"/v1/accounts/{account.account_id}"
    if not await with_retries(
        lambda: api.put(f"{url}/overdue", json=report),
        (200, 201),
        timeline,
        f"start {account.account_id}",
    ):
        return
    account.started_at = time.monotonic() - timeline.t0
    if account.pay_after is None:
        return
    await asyncio.sleep(account.pay_after)
    payment = {
        "payment_id": f"pay-{account.account_id}",
        "amount_minor": account.pay_amount,
        "currency": "CNY",
        "paid_at": datetime.now(UTC).isoformat(),
    }
    # 409: the process has closed (handed over) before the payment came: a final answer too.
    account.payment_status = await with_retries(
        lambda: api.post(f"{url}/payments", json=payment),
        (202, 409),
        timeline,
        f"pay {account.account_id}",
    )
    if account.payment_status == 202:
        account.paid_at = time.monotonic() - timeline.t0


@dataclass
class Stack:
    folder: Path
    postgres: LocalPostgres
    temporal: TemporalDevServer
    worker: WorkerProcess


async def chaos(
    stack: Stack, timeline: Timeline, kills: list[float], temporal_at: float, postgres_at: float
) -> None:
    """The disruptions, at their offsets from the first start."""
    plan = sorted(
        [(t, "kill_worker") for t in kills]
        + [(temporal_at, "restart_temporal"), (postgres_at, "restart_postgres")]
    )
    for at, what in plan:
        await asyncio.sleep(max(0.0, at - (time.monotonic() - timeline.t0)))
        if what == "kill_worker":
            await stack.worker.kill()
            timeline.log("worker SIGKILLed")
            await asyncio.sleep(2)
            await stack.worker.start()
            timeline.log("worker restarted")
        elif what == "restart_temporal":
            await stack.temporal.child.stop(grace=0.1, sig=signal.SIGKILL)
            timeline.log("temporal dev server SIGKILLed")
            await asyncio.sleep(2)
            await stack.temporal.start()
            timeline.log("temporal dev server restarted (same SQLite file)")
        else:
            url = stack.postgres.url
            await stack.postgres.stop_async()
            timeline.log("postgres stopped")
            await asyncio.sleep(2)
            stack.postgres = await start_local_postgres_async(stack.postgres.data_dir)
            if stack.postgres.url != url:
                raise RuntimeError("postgres came back on another address")
            timeline.log("postgres restarted")


def _parked(description: Any, horizon: datetime) -> bool:
    """Running, but only waiting for a time past the horizon (e.g. its contact window) with
    nothing in flight: settled for this run."""
    if description.raw_description.pending_activities:
        return False
    at = description.typed_search_attributes.get(sa.NEXT_ACTION_AT)
    return at is not None and at > horizon


async def wait_until_settled(
    client: Client, ids: list[str], timeline: Timeline, wait_seconds: float
) -> tuple[int, int]:
    """Poll until every workflow has closed or is parked until after the run.

    Returns (still busy at the deadline, parked).
    """
    busy = list(ids)
    parked: set[str] = set()
    give_up = time.monotonic() + wait_seconds
    while busy and time.monotonic() < give_up:
        horizon = datetime.now(UTC) + timedelta(minutes=15)
        still: list[str] = []
        for chunk in range(0, len(busy), 50):
            batch = busy[chunk : chunk + 50]
            descriptions = await asyncio.gather(
                *(client.get_workflow_handle(wid).describe() for wid in batch),
                return_exceptions=True,
            )
            for wid, d in zip(batch, descriptions, strict=True):
                if isinstance(d, BaseException):
                    still.append(wid)
                elif d.status == WorkflowExecutionStatus.RUNNING:
                    if _parked(d, horizon):
                        parked.add(wid)
                    else:
                        still.append(wid)
                        parked.discard(wid)
        busy = still
        if busy:
            timeline.log("waiting for workflows to settle", busy=len(busy), parked=len(parked))
            await asyncio.sleep(10)
    return len(busy), len(parked)


async def gather_evidence(
    client: Client,
    pool: asyncpg.Pool,
    fake: FakeTwilio,
    receiver: NotifyReceiver,
    accounts: list[Account],
) -> Evidence:
    histories = {}
    skipped: dict[str, set[str]] = {}
    suppressed: dict[str, set[str]] = {}
    semaphore = asyncio.Semaphore(16)

    async def one(account: Account) -> None:
        async with semaphore:
            wid = workflow_id(account.account_id)
            handle = client.get_workflow_handle(wid)
            try:
                description = await handle.describe()
            except Exception:
                return  # never started (its start request gave up): nothing to check
            first_run = await _first_run_id(client, wid, description.run_id)
            events = await _chain_events(client, wid, first_run)
            histories[account.account_id] = parse_history(wid, first_run, events)
            status = await handle.query(OverdueAccountWorkflow.status)
            skipped[account.account_id] = set(status.stages_skipped)
            suppressed[account.account_id] = set(status.stages_suppressed)

    await asyncio.gather(*(one(a) for a in accounts))
    ledger = [
        dict(r)
        for r in await pool.fetch(
            "SELECT idempotency_key, account_id, channel, stage_id, status, provider_id, created_at"
            " FROM contact_ledger"
        )
    ]
    call_tasks = [
        dict(r)
        for r in await pool.fetch(
            "SELECT idempotency_key, account_id, stage_id, status, created_at FROM call_tasks"
        )
    ]
    messages = [
        {"sid": m.sid, "to": m.to, "body": m.body, "created_at": m.date_created}
        for m in fake.messages.values()
    ]
    return Evidence(
        accounts=histories,
        skipped=skipped,
        suppressed=suppressed,
        phones={a.phone: a.account_id for a in accounts},
        provider_messages=messages,
        ledger=ledger,
        call_tasks=call_tasks,
        notices=list(receiver.deliveries),
        until=datetime.now(UTC),
    )


async def _chain_events(client: Client, wid: str, first_run: str) -> list[HistoryEvent]:
    """Every event of a continue-as-new chain, runs in order."""
    events: list[HistoryEvent] = []
    run_id: str | None = first_run
    for _ in range(100):
        if run_id is None:
            break
        history = await client.get_workflow_handle(wid, run_id=run_id).fetch_history()
        events.extend(history.events)
        last = history.events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id or None
        )
    return events


async def reparse_histories(folder: Path, evidence: Evidence) -> None:
    """Parse a kept run's histories again (from its Temporal file), so a re-check sees what
    today's parser reads; the rest of the evidence is as gathered."""
    async with TemporalDevServer.on_free_ports(db_file=folder / "temporal.sqlite") as server:
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        semaphore = asyncio.Semaphore(16)

        async def one(account_id: str, old: Any) -> None:
            async with semaphore:
                events = await _chain_events(client, old.workflow_id, old.first_run_id)
                evidence.accounts[account_id] = parse_history(
                    old.workflow_id, old.first_run_id, events
                )

        await asyncio.gather(*(one(a, h) for a, h in list(evidence.accounts.items())))


async def _first_run_id(client: Client, wid: str, latest_run: str | None) -> str:
    """The chain's first run (continue-as-new keeps first_execution_run_id in the input)."""
    history = await client.get_workflow_handle(wid, run_id=latest_run).fetch_history()
    attrs = history.events[0].workflow_execution_started_event_attributes
    return attrs.first_execution_run_id or latest_run or ""


def worker_env(settings: Settings, database_url: str, log_level: str = "INFO") -> dict[str, str]:
    import os

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


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)  # noqa: S311 - a reproducible benchmark, not security
    accounts = make_accounts(args.n, rng)
    folder = temporary_folder("bench-chaos-")
    # The API, the fake and asyncpg log every outage at length: to a file, not the console.
    logging.basicConfig(filename=folder / "driver.log", level=logging.WARNING, force=True)
    timeline = Timeline()
    postgres = await start_local_postgres_async(folder / "pg" / "data")
    await upgrade_async(postgres.url)
    temporal = TemporalDevServer.on_free_ports(db_file=folder / "temporal.sqlite")
    await temporal.start()
    fake = FakeTwilio(
        ACCOUNT_SID, AUTH_TOKEN, faults=FaultPlan(rate=args.fault_rate, seed=args.seed)
    )
    await fake.start()
    receiver = NotifyReceiver()
    await receiver.start()
    (api_port,) = free_tcp_ports(1)
    settings = Settings(
        database_url=postgres.url,
        temporal_host=temporal.host,
        temporal_port=temporal.port,
        temporal_ui_port=temporal.ui_port,
        api_port=api_port,
        policy_file=POLICY_FILE,
        sms_sender="twilio",
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from=FROM_NUMBER,
        twilio_api_base=fake.url,
        notify_url=receiver.url,
        notify_secret=NOTIFY_SECRET,
    )
    worker = WorkerProcess(worker_env(settings, postgres.url), folder / "worker.log")
    stack = Stack(folder, postgres, temporal, worker)
    result: dict[str, Any] = {
        "n": args.n,
        "seed": args.seed,
        "fault_rate": args.fault_rate,
        "folder": str(folder),
    }
    try:
        pool = await asyncpg.create_pool(postgres.url, min_size=1, max_size=4)
        assert pool is not None
        async with pool.acquire() as conn:
            _, key = await add_key(conn, f"chaos-{uuid.uuid4().hex[:8]}", ALL_SCOPES)
        await pool.close()
        await worker.start()
        async with (
            api_server(settings),
            httpx.AsyncClient(
                base_url=settings.api_url, timeout=30, headers={"Authorization": f"Bearer {key}"}
            ) as api,
        ):
            timeline = Timeline()
            timeline.log("starting accounts", n=args.n, over_seconds=args.start_seconds)
            spread = [args.start_seconds * i / max(1, args.n) for i in range(args.n)]
            scale = args.start_seconds / 120
            kills = [30 * scale, 80 * scale, 140 * scale, 200 * scale]
            disruptions = asyncio.create_task(
                chaos(stack, timeline, kills, 110 * scale, 170 * scale)
            )
            drivers = asyncio.ensure_future(
                asyncio.gather(
                    *(
                        drive_account(api, a, at, timeline)
                        for a, at in zip(accounts, spread, strict=True)
                    )
                )
            )
            # A disruption that fails (say the worker does not come back) ends the run at once.
            both: set[asyncio.Future[Any]] = {drivers, disruptions}
            await asyncio.wait(both, return_when=asyncio.FIRST_EXCEPTION)
            if disruptions.done() and disruptions.exception() is not None:
                drivers.cancel()
                await asyncio.gather(drivers, return_exceptions=True)
            await disruptions
            await drivers
            timeline.log("every start and payment accepted; chaos over")
            client = await Client.connect(temporal.address, data_converter=pydantic_data_converter)
            started = [a for a in accounts if a.started_at is not None]
            left, parked = await wait_until_settled(
                client, [workflow_id(a.account_id) for a in started], timeline, args.timeout
            )
            with contextlib.suppress(TimeoutError):
                await fake.settle(30)
            timeline.log("gathering evidence", still_busy=left, parked=parked)
            pool = await asyncpg.create_pool(stack.postgres.url, min_size=1, max_size=4)
            assert pool is not None
            try:
                evidence = await gather_evidence(client, pool, fake, receiver, started)
            finally:
                await pool.close()
        # Kept beside the logs: `--recheck FOLDER` runs the checker again without a new run.
        (folder / "evidence.pickle").write_bytes(pickle.dumps(evidence))
        verdict = check(evidence)
        result.update(
            {
                "accounts_started": len(started),
                "accounts_inside_window": sum(1 for a in started if a.inside_window),
                "payments_accepted": sum(1 for a in accounts if a.payment_status == 202),
                "payments_after_closure": sum(1 for a in accounts if a.payment_status == 409),
                "still_busy_at_check": left,
                "parked_until_their_window": parked,
                "faults_injected": len(fake.injected),
                "fault_kinds": dict(_count(f.kind.value for f in fake.injected)),
                "provider_api_calls": len(fake.api_calls),
                "timeline": timeline.events,
                "seconds": round(time.monotonic() - timeline.t0, 1),
                **verdict,
            }
        )
        return result
    finally:
        await worker.stop()
        await receiver.stop()
        await fake.stop()
        await temporal.stop()
        await stack.postgres.stop_async()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def _count(items: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def report(data: dict[str, Any]) -> None:
    print(
        f"chaos: {data['accounts_started']:,} accounts ({data['accounts_inside_window']:,} "
        f"inside their window), {data['payments_accepted']:,} payments, "
        f"{data['faults_injected']:,} provider faults injected "
        f"of {data['provider_api_calls']:,} calls, {data['seconds']} s"
    )
    for event in data["timeline"]:
        if any(w in event["event"] for w in ("SIGKILL", "restarted", "stopped")):
            print(f"  t={event['t']:6.1f}s {event['event']}")
    print("checked:", ", ".join(f"{k} {v:,}" for k, v in data["checked"].items()))
    print("must be 0:")
    for name, count in data["counts"].items():
        print(f"  {name:28} {count}")
    print("info (not failures):")
    for name, count in sorted(data["info"].items()):
        print(f"  {name:28} {count}")
    print("ALL ZERO" if data["all_zero"] else "FAILED: see examples in the JSON result")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument(
        "--start-seconds",
        type=float,
        default=120,
        help="spread the starts over this long; the chaos scales with it",
    )
    parser.add_argument("--timeout", type=float, default=900, help="wait for closure at most")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--recheck",
        type=Path,
        default=None,
        help="check a kept run's folder again (its evidence.pickle)",
    )
    args = parser.parse_args(argv)
    if args.recheck is not None:
        evidence = pickle.loads((args.recheck / "evidence.pickle").read_bytes())  # noqa: S301 - our own file
        if (args.recheck / "temporal.sqlite").exists():
            asyncio.run(reparse_histories(args.recheck, evidence))
        verdict = check(evidence)
        print(json.dumps(verdict, indent=2, default=str))
        return 0 if verdict["all_zero"] else 1
    data = asyncio.run(run(args))
    report(data)
    print(f"result written to {write_result('chaos', data, args.out)}")
    return 0 if data["all_zero"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

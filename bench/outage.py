"""Temporal outage: do writers get a quick 503, and do Postgres-only reads carry on? (issue 13)

    .venv/bin/python -m bench.outage [--outage 40] [--writers 12] [--out FILE]

Starts the stack's pieces (embedded Postgres with migrations, a Temporal dev server on a
SQLite file, the product's worker in its own process, the API under uvicorn in this one),
starts one account per writer, then stops Temporal for `--outage` seconds while `--writers`
concurrent writers alternate `PUT .../overdue` (a new account) and `POST .../payments` (their
account), and a reader polls a Postgres-only `GET .../contacts` and `/readyz`. Then Temporal
starts again on the same file and the relay delivers what was recorded during the outage.

Prints: how many writes answered 503 (with Retry-After) within 3 s, their p50/max latency,
the Postgres-only read's and /readyz's latency during the outage, and how long the relay took
to deliver every recorded report afterwards (with how many processes it started). Not part
of `make test`: it takes about a minute and a half.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import api_server, fmt, percentile, print_table, write_result
from bench.stack import WorkerChild, temporary_folder
from overdue.migrate import upgrade_async
from overdue.ports import free_tcp_ports
from overdue.settings import Settings
from overdue.store.api_keys import ALL_SCOPES, add_key
from workers.devstack.local_postgres import start_local_postgres_async
from workers.devstack.local_temporal import TemporalDevServer

ROOT = Path(__file__).resolve().parents[1]
POLICY_FILE = ROOT / "tests" / "policies" / "fast.yaml"
QUICK_SECONDS = 3.0


def overdue_body(seq: int) -> dict[str, Any]:
    return {
        "customer": {
            "name": "Bench Customer",
            "phone": f"+86139{seq:08d}",
            "time_zone": "Asia/Shanghai",
            "locale": "en",
        },
        "product": "credit_line",
        "amount_due": {"amount_minor": 50_000, "currency": "CNY"},
        "due_date": (date.today() - timedelta(days=2)).isoformat(),
    }


@dataclass
class Answers:
    writes: list[tuple[str, int, float, bool]] = field(default_factory=list)  # kind, status, s
    reads: list[tuple[int, float]] = field(default_factory=list)
    ready: list[tuple[int, float]] = field(default_factory=list)
    started_accounts: list[str] = field(default_factory=list)


async def timed(call: Any) -> tuple[int, float, bool]:
    started = time.monotonic()
    try:
        answer: httpx.Response = await call
    except httpx.HTTPError:
        return -1, time.monotonic() - started, False
    return answer.status_code, time.monotonic() - started, "retry-after" in answer.headers


async def writer(
    api: httpx.AsyncClient, seq: int, account: str, until: float, out: Answers
) -> None:
    n = 0
    while time.monotonic() < until:
        n += 1
        if n % 2:
            new = f"outage-{uuid.uuid4().hex[:10]}"
            status, took, retry = await timed(
                api.put(f"/v1/accounts/{new}/overdue", json=overdue_body(seq * 1000 + n))
            )
            out.started_accounts.append(new)
            out.writes.append(("PUT", status, took, retry))
        else:
            payment = {
                "payment_id": f"P-{uuid.uuid4().hex[:8]}",
                "amount_minor": 100,
                "currency": "CNY",
                "paid_at": datetime.now(UTC).isoformat(),
            }
            status, took, retry = await timed(
                api.post(f"/v1/accounts/{account}/payments", json=payment)
            )
            out.writes.append(("POST", status, took, retry))


async def reader(api: httpx.AsyncClient, account: str, until: float, out: Answers) -> None:
    while time.monotonic() < until:
        status, took, _ = await timed(api.get(f"/v1/accounts/{account}/contacts"))
        out.reads.append((status, took))
        status, took, _ = await timed(api.get("/readyz"))
        out.ready.append((status, took))
        await asyncio.sleep(0.5)


async def undelivered(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval(
        "SELECT (SELECT count(*) FROM account_bills WHERE delivered_at IS NULL)"
        " + (SELECT count(*) FROM reported_events WHERE delivered_at IS NULL)"
    )
    return count


async def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = temporary_folder("bench-outage-")
    logging.basicConfig(filename=folder / "driver.log", level=logging.WARNING, force=True)
    postgres = await start_local_postgres_async(folder / "pg" / "data")
    temporal = TemporalDevServer.on_free_ports(db_file=folder / "temporal.sqlite")
    try:
        await upgrade_async(postgres.url)
        await temporal.start()
        return await _measure(args, postgres.url, temporal)
    finally:
        await temporal.stop()
        await postgres.stop_async()


async def _measure(
    args: argparse.Namespace, database_url: str, temporal: TemporalDevServer
) -> dict[str, Any]:
    (api_port,) = free_tcp_ports(1)
    settings = Settings(
        database_url=database_url,
        temporal_host=temporal.host,
        temporal_port=temporal.port,
        temporal_ui_port=temporal.ui_port,
        api_port=api_port,
        policy_file=POLICY_FILE,
    )
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    assert pool is not None
    async with pool.acquire() as conn:
        _, key = await add_key(conn, f"outage-{uuid.uuid4().hex[:8]}", ALL_SCOPES)
    worker_args = ["--mode", "real", "--address", temporal.address, "--database-url", database_url]
    worker = await WorkerChild("worker", worker_args).start()
    out = Answers()
    try:
        async with (
            api_server(settings),
            httpx.AsyncClient(
                base_url=settings.api_url, timeout=60, headers={"Authorization": f"Bearer {key}"}
            ) as api,
        ):
            accounts = [f"outage-base-{i}-{uuid.uuid4().hex[:6]}" for i in range(args.writers)]
            for i, account in enumerate(accounts):
                answer = await api.put(f"/v1/accounts/{account}/overdue", json=overdue_body(i))
                assert answer.status_code == 201, answer.text
            print(f"stopping Temporal for {args.outage:g} s; {args.writers} writers")
            await temporal.stop()
            until = time.monotonic() + args.outage
            await asyncio.gather(
                *(writer(api, i + 1, a, until, out) for i, a in enumerate(accounts)),
                reader(api, accounts[0], until, out),
            )
            print("starting Temporal again")
            restarted = time.monotonic()
            await temporal.start()
            pending_at_restart = await undelivered(pool)
            while await undelivered(pool) and time.monotonic() - restarted < 120:  # noqa: ASYNC110 - polling another process's work
                await asyncio.sleep(0.25)
            drained_after = time.monotonic() - restarted
            left = await undelivered(pool)
            started = await pool.fetchval(
                "SELECT count(*) FROM audit_events WHERE kind = 'process.started'"
                " AND account_id = ANY($1::text[])",
                out.started_accounts,
            )
            stored = await pool.fetchval(
                "SELECT count(*) FROM accounts WHERE account_id = ANY($1::text[])",
                out.started_accounts,
            )
    finally:
        await worker.stop()
        await pool.close()
    return _summary(args, out, pending_at_restart, drained_after, left, started, stored)


def _summary(
    args: argparse.Namespace,
    out: Answers,
    pending: int,
    drained_after: float,
    left: int,
    started: int,
    stored: int,
) -> dict[str, Any]:
    latencies = [took for _, _, took, _ in out.writes]
    statuses: dict[str, int] = {}
    for _, status, _, _ in out.writes:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    quick_503 = sum(
        1 for _, s, took, retry in out.writes if s == 503 and retry and took < QUICK_SECONDS
    )
    reads = [took for status, took in out.reads if status == 200]
    ready = [took for _, took in out.ready]
    return {
        "outage_seconds": args.outage,
        "writers": args.writers,
        "writes": len(out.writes),
        "statuses": statuses,
        "quick_503_with_retry_after": quick_503,
        "write_p50_s": percentile(latencies, 50),
        "write_max_s": max(latencies, default=None),
        "read_ok": len(reads),
        "read_failed": len(out.reads) - len(reads),
        "read_p50_s": percentile(reads, 50),
        "read_max_s": max(reads, default=None),
        "readyz_max_s": max(ready, default=None),
        "readyz_statuses": sorted({status for status, _ in out.ready}),
        "undelivered_at_restart": pending,
        "relay_drained_after_s": drained_after,
        "undelivered_left": left,
        "accounts_put_during_outage": len(out.started_accounts),
        "of_which_stored": stored,
        "of_which_started_after": started,
    }


def report(data: dict[str, Any]) -> None:
    rows = [
        ["writes during the outage", str(data["writes"])],
        ["answers by status", ", ".join(f"{k}: {v}" for k, v in data["statuses"].items())],
        [f"503 + Retry-After within {QUICK_SECONDS:g} s", str(data["quick_503_with_retry_after"])],
        [
            "write latency p50 / max (s)",
            f"{fmt(data['write_p50_s'], 2)} / {fmt(data['write_max_s'], 2)}",
        ],
        [
            "Postgres-only read p50 / max (s)",
            f"{fmt(data['read_p50_s'], 3)} / {fmt(data['read_max_s'], 3)}",
        ],
        ["Postgres-only reads failed", str(data["read_failed"])],
        ["/readyz max (s), statuses", f"{fmt(data['readyz_max_s'], 2)}, {data['readyz_statuses']}"],
        ["undelivered at restart", str(data["undelivered_at_restart"])],
        ["relay drained after (s)", fmt(data["relay_drained_after_s"], 1)],
        [
            "PUT accounts stored / started",
            f"{data['of_which_stored']} / {data['of_which_started_after']}",
        ],
    ]
    print_table(rows, ["measure", "value"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=40.0, help="seconds Temporal is down")
    parser.add_argument("--writers", type=int, default=12)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    data = asyncio.run(run(args))
    report(data)
    print(f"result written to {write_result('outage', data, args.out)}")
    ok = data["writes"] == data["quick_503_with_retry_after"] and not data["undelivered_left"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

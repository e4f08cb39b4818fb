"""Postgres bytes per account: N accounts' worth of rows written through the product's own code
(the API's report transaction, the SMS and call-task activities, a payment, the cancel at
resolution), then every table's heap, TOAST and index sizes divided by N.

One lifecycle per account, the default policy's "never pays" contacts but its notices (they
need the backend's webhook receiver; a notice's ledger row and receipt are sized as a call
task's, see docs/capacity.md):

- `PUT .../overdue`'s transaction (api.overdue_reports): account, customer (name sealed with the
  account's data key), bill with its stored start input (the whole process input, policy
  included), the start's audit row;
- 3 SMS (d-3, D+1, D+7) through `SmsActivities.send_sms` with the recording sender: ledger row
  with its rendered body, compliance receipt, the sent status;
- 3 call tasks (D+2, D+15, D+30) through `CallTaskActivities.create_call_task`, then
  `call_tasks.cancel_open` as the workflow's resolution does;
- 1 payment reported (`reported_events.record_once`, with its audit row).

    .venv/bin/python -m bench.pg_size [--n 2000] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.testing import ActivityEnvironment

from activities.call_tasks import CallTaskActivities
from activities.sms import SmsActivities
from activities.sms_senders import RecordingSmsSender
from api.schemas import OverdueReport
from api.workflow_messages import bill, process_input
from bench.common import ROOT, fmt, print_table, publish_result
from bench.stack import embedded_postgres
from overdue.policy_files import load_policy
from overdue.store import audit, call_tasks, reported_events
from overdue.store.accounts import CustomerReport, lock_account, store_account, store_customer
from overdue.store.bills import add_bill, mark_bill_delivered
from workflows.contact_types import (
    ContactFacts,
    CreateCallTaskInput,
    DecisionBasis,
    SendSmsInput,
)
from workflows.policy import Policy

SMS_STAGES = (("d_minus_3_sms", "due_soon"), ("d1_sms", "overdue_first_notice"),
              ("d7_sms", "overdue_second_notice"))  # fmt: skip
CALL_STAGES = (("d2_call", "general"), ("d15_collections_call", "general"),
               ("d30_supervisor_review", "supervisor"))  # fmt: skip
CONCURRENCY = 8
# One row per database, not per account: left out of the per-account figures.
FIXED_TABLES = frozenset({"alembic_version", "audit_chain_head", "audit_chain_anchors"})
ZONE = "Asia/Shanghai"


def report_body(i: int) -> OverdueReport:
    """A report as a backend sends it: a Chinese name, a CN mobile, 1,500.00 CNY."""
    return OverdueReport.model_validate(
        {
            "customer": {
                "name": "张伟" if i % 2 else "Zhou Huimin",
                "phone": f"+86139{i % 10**8:08d}",
                "time_zone": ZONE,
                "locale": "zh-CN",
            },
            "product": "credit_line",
            "amount_due": {"amount_minor": 150_000, "currency": "CNY"},
            "due_date": (date.today() - timedelta(days=1)).isoformat(),
        }
    )


async def report(pool: asyncpg.Pool, account_id: str, body: OverdueReport, policy: Policy) -> None:
    """`PUT .../overdue`'s transaction, then the delivery's (api.deliveries), no Temporal."""
    the_bill = bill(account_id, body)
    start_input = process_input(account_id, body, policy).model_dump(mode="json")
    async with pool.acquire() as conn, conn.transaction():
        await lock_account(conn, account_id)
        await store_account(conn, account_id, product=body.product, currency="CNY")
        customer = body.customer
        details = CustomerReport(customer.name, customer.phone, customer.time_zone, customer.locale)
        await store_customer(conn, account_id, details)
        await add_bill(conn, the_bill, start_input=start_input, actor="bench-backend")
    async with pool.acquire() as conn, conn.transaction():
        await mark_bill_delivered(conn, account_id, the_bill.bill_id)
        await audit.record_event(
            conn,
            account_id=account_id,
            actor="bench-backend",
            kind="process.started",
            details={"bill_id": the_bill.bill_id, "amount_minor": 150_000, "currency": "CNY"},
        )


def facts(policy: Policy) -> ContactFacts:
    caps = policy.caps
    return ContactFacts(
        basis="stage",
        decided_at=datetime.now(UTC),
        policy_id=policy.id,
        policy_version=policy.version,
        jurisdiction="CN",
        time_zone=ZONE,
        window_start=time(8),
        window_end=time(22),
        sms_per_day=caps.sms_per_day,
        sms_per_week=caps.sms_per_week,
        calls_per_day=caps.calls_per_day,
        calls_per_7_days=caps.calls_per_7_days,
        sms_opted_out=False,
        contact_ceased=False,
        open_disputes=0,
        vulnerable=False,
    )


async def contacts(
    pool: asyncpg.Pool, account_id: str, policy: Policy, sender: RecordingSmsSender
) -> None:
    """The lifecycle's SMS and call tasks through the activities, as the worker runs them."""
    env = ActivityEnvironment()
    sms = SmsActivities(pool, sender)
    tasks = CallTaskActivities(pool)
    basis = DecisionBasis(payments_known=[], since=datetime.now(UTC) - timedelta(days=40))
    for stage_id, template_id in SMS_STAGES:
        await env.run(
            sms.send_sms,
            SendSmsInput(
                idempotency_key=f"{account_id}/episode-1/{stage_id}/1",
                account_id=account_id,
                stage_id=stage_id,
                facts=facts(policy),
                template_id=template_id,
                templates=policy.templates[template_id],
                default_locale=policy.default_locale,
                amount_minor=150_000,
                currency="CNY",
                due_date=date.today() - timedelta(days=1),
                days_past_due=1,
                basis=basis,
            ),
        )
    for stage_id, queue in CALL_STAGES:
        await env.run(
            tasks.create_call_task,
            CreateCallTaskInput(
                idempotency_key=f"{account_id}/episode-1/{stage_id}/1",
                account_id=account_id,
                stage_id=stage_id,
                facts=facts(policy),
                queue=queue,
                priority=50,
                due_at=datetime.now(UTC),
                basis=basis,
            ),
        )


async def pays(pool: asyncpg.Pool, account_id: str) -> None:
    """A payment in full as the API records it, then the resolution's cancel of the tasks."""
    payment_id = f"pay-{uuid.uuid4().hex[:12]}"
    async with pool.acquire() as conn, conn.transaction():
        await reported_events.record_once(
            conn,
            account_id=account_id,
            kind=reported_events.PAYMENT_REPORTED,
            event_id=payment_id,
            actor="bench-billing",
            details={"payment_id": payment_id, "amount_minor": 150_000, "currency": "CNY"},
        )
    await call_tasks.cancel_open(pool, account_id, "resolved")


async def generate(pool: asyncpg.Pool, n: int, policy: Policy) -> None:
    sender = RecordingSmsSender()
    queue = list(range(n))

    async def lane() -> None:
        while queue:
            i = queue.pop()
            account_id = f"acct-{i:08d}"
            await report(pool, account_id, report_body(i), policy)
            await contacts(pool, account_id, policy, sender)
            await pays(pool, account_id)
            sender.sent.clear()  # memory: the recording sender keeps every message

    await asyncio.gather(*(lane() for _ in range(CONCURRENCY)))


# Sizes as Postgres reports them, after VACUUM ANALYZE (dead tuples of the updates stay in the
# pages as free space, as in production between vacuums).
TABLE_SIZES = """
SELECT c.relname AS table_name, c.reltuples::bigint AS est_rows,
       pg_relation_size(c.oid) AS heap_bytes,
       pg_total_relation_size(c.oid) - pg_relation_size(c.oid) - pg_indexes_size(c.oid)
           AS toast_bytes,
       pg_indexes_size(c.oid) AS index_bytes,
       pg_total_relation_size(c.oid) AS total_bytes
  FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
 WHERE ns.nspname = 'public' AND c.relkind = 'r'
 ORDER BY total_bytes DESC
"""
INDEX_SIZES = """
SELECT t.relname AS table_name, i.relname AS index_name, pg_relation_size(i.oid) AS bytes
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
  JOIN pg_namespace ns ON ns.oid = t.relnamespace
 WHERE ns.nspname = 'public' ORDER BY bytes DESC
"""


async def measure(pool: asyncpg.Pool, n: int) -> dict[str, Any]:
    async with pool.acquire() as conn:
        await conn.execute("VACUUM ANALYZE")
        tables = [dict(r) for r in await conn.fetch(TABLE_SIZES)]
        indexes = [dict(r) for r in await conn.fetch(INDEX_SIZES)]
        for table in tables:
            name = table["table_name"]
            # Exact counts and the mean row as stored (pg_column_size of the whole row).
            row = await conn.fetchrow(
                f'SELECT count(*) AS n, avg(pg_column_size(t.*)) AS row_bytes FROM "{name}" t'
            )
            assert row is not None
            table["rows"] = row["n"]
            table["avg_row_bytes"] = round(float(row["row_bytes"] or 0), 1)
    used = [t for t in tables if t["rows"] and t["table_name"] not in FIXED_TABLES]
    for table in used:
        table["rows_per_account"] = round(table["rows"] / n, 3)
        table["bytes_per_account"] = round(table["total_bytes"] / n, 1)
    total = sum(t["total_bytes"] for t in used)
    return {
        "n_accounts": n,
        "lifecycle": {"sms": len(SMS_STAGES), "call_tasks": len(CALL_STAGES), "payments": 1},
        "tables": used,
        "indexes": [i for i in indexes if i["bytes"] > 8192],
        "total_bytes": total,
        "bytes_per_account": round(total / n, 1),
    }


async def run(n: int) -> dict[str, Any]:
    policy = load_policy(ROOT / "policies" / "default.yaml")
    async with embedded_postgres() as (postgres, _):
        pool = await asyncpg.create_pool(postgres.url, min_size=1, max_size=CONCURRENCY + 2)
        assert pool is not None
        try:
            await generate(pool, n, policy)
            return await measure(pool, n)
        finally:
            await pool.close()


def report_sizes(data: dict[str, Any]) -> None:
    print(f"Postgres bytes per account, N={data['n_accounts']:,} lifecycles {data['lifecycle']}")
    rows = [
        [
            t["table_name"],
            f"{t['rows']:,}",
            fmt(t["rows_per_account"], 2),
            fmt(t["avg_row_bytes"], 0),
            fmt((t["heap_bytes"] + t["toast_bytes"]) / data["n_accounts"], 0),
            fmt(t["index_bytes"] / data["n_accounts"], 0),
            fmt(t["bytes_per_account"], 0),
        ]
        for t in data["tables"]
    ]
    header = ["table", "rows", "rows/acct", "avg row B", "heap+toast B/acct", "index B/acct"]
    print_table(rows, [*header, "total B/acct"])
    print(f"all tables: {data['bytes_per_account']:,.0f} bytes per account")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000, help="accounts (lifecycles) to write")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    data = asyncio.run(run(args.n))
    report_sizes(data)
    publish_result("pg_size", json.loads(json.dumps(data, default=str)), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

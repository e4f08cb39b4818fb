"""The report's per-account rows (overdue/store/experiment_outcomes.py) from what the product
records: bills, payments, contacts, complaints, opt-outs, disputes, on real Postgres."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from overdue.experiments import Experiment
from overdue.store import experiments as store
from overdue.store import reported_events
from overdue.store.audit import record_event
from overdue.store.bills import Bill, add_bill
from overdue.store.experiment_outcomes import outcome_rows
from tests.integration.conftest import ROOT
from workers.devstack.local_postgres import LocalPostgres

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(postgres: LocalPostgres) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(postgres.url, min_size=1, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


async def _experiment(pool: asyncpg.Pool) -> str:
    from overdue.policy_files import load_policy

    experiment_id = f"exp-{uuid.uuid4().hex[:8]}"
    experiment = Experiment.model_validate(
        {
            "id": experiment_id,
            "champion": "a",
            "arms": [
                {"name": "a", "policy": {"id": "fast", "version": 1}, "weight": 1},
                {"name": "b", "policy": {"id": "fast", "version": 1}, "weight": 1},
            ],
        }
    )
    policy = load_policy(ROOT / "tests" / "policies" / "fast.yaml")
    await store.create_experiment(pool, experiment, {"a": policy, "b": policy}, "ops:test")
    # Stopped at once: rows are read the same, and no API start in the session is enrolled.
    assert await store.stop_experiment(pool, experiment_id, "ops:test")
    return experiment_id


async def _assign(pool: asyncpg.Pool, experiment_id: str, arm: str, *, due: int) -> str:
    account = f"acct-{uuid.uuid4().hex[:10]}"
    async with pool.acquire() as conn, conn.transaction():
        await store.record_assignment(
            conn,
            store.Assignment(
                experiment_id=experiment_id,
                account_id=account,
                arm=arm,
                hashed_arm=arm,
                segment=None,
                policy_id="fast",
                policy_version=1,
                product="credit_line",
                risk_segment=None,
                jurisdiction="CN",
                vulnerable=arm == "b",
            ),
            actor="api:tests",
        )
        bill = Bill(account, "b1", due, "CNY", date(2026, 11, 1))
        await add_bill(conn, bill)
    return account


async def _pay(
    pool: asyncpg.Pool, account: str, payment_id: str, amount: int, at: datetime
) -> None:
    details = {
        "payment_id": payment_id,
        "amount_minor": amount,
        "currency": "CNY",
        "paid_at": at.isoformat(),
    }
    await record_event(
        pool, account_id=account, actor="api:tests", kind="payment.reported", details=details
    )


async def _contact(pool: asyncpg.Pool, account: str, status: str) -> None:
    await pool.execute(
        "INSERT INTO contact_ledger (idempotency_key, account_id, channel, stage_id, status) "
        "VALUES ($1, $2, 'sms', 'd1_sms', $3)",
        uuid.uuid4().hex,
        account,
        status,
    )


async def test_outcomes_come_from_what_is_recorded(pool: asyncpg.Pool) -> None:
    experiment_id = await _experiment(pool)
    cured = await _assign(pool, experiment_id, "a", due=10_000)
    unpaid = await _assign(pool, experiment_id, "b", due=10_000)
    soon = datetime.now(UTC) + timedelta(days=3)
    await _pay(pool, cured, "p1", 4_000, soon - timedelta(days=1))
    await _pay(pool, cured, "p2", 6_000, soon)  # this one reaches the bill's total
    await _pay(pool, unpaid, "p3", 2_500, soon)
    for status in ("delivered", "sent", "blocked", "failed"):
        await _contact(pool, cured, status)
    await record_event(
        pool,
        account_id=unpaid,
        actor="agent-1",
        kind="call.outcome",
        details={"task_id": 7, "outcome": "complaint"},
    )
    await record_event(
        pool,
        account_id=unpaid,
        actor="customer",
        kind="sms.consent_changed",
        details={"opted_out": True, "source": "inbound_sms"},
    )
    async with pool.acquire() as conn, conn.transaction():
        await reported_events.record_once(
            conn,
            account_id=unpaid,
            kind="dispute.opened",
            event_id="d1",
            actor="api:tests",
            details={"dispute_id": "d1"},
        )

    rows = {row.arm: row for row in await outcome_rows(pool, experiment_id)}
    a, b = rows["a"], rows["b"]
    assert (a.cured, a.recovered_minor, a.contacts, a.currency) == (True, 10_000, 2, "CNY")
    assert a.days_to_cure is not None and 2.9 < a.days_to_cure < 3.1
    assert not (a.complained or a.opted_out or a.disputed or a.vulnerable)
    assert (b.cured, b.days_to_cure, b.recovered_minor, b.contacts) == (False, None, 2_500, 0)
    assert b.complained and b.opted_out and b.disputed and b.vulnerable

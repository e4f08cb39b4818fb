"""Compliance receipts: one per contact, written in the transaction that makes it; and
`overdue compliance audit`, which re-checks them, over clean data and planted violations.

Each test has a database of its own (in the session's embedded Postgres), so the audit sees
exactly the contacts the test made.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from temporalio.testing import ActivityEnvironment

from activities.call_tasks import CallTaskActivities
from activities.notify import NotifyActivities
from activities.sms import SmsActivities
from activities.sms_senders import RecordingSmsSender
from overdue.migrate import upgrade_async
from overdue.store import contact_ledger, receipts, reported_events
from overdue.store.contact_ledger import NewContact
from overdue.store.sealed_texts import open_text
from tests.integration.conftest import ROOT
from tests.integration.side_effects.support import Customer, add_customer, sms_input
from tests.integration.support import CUSTOMER_ZONE
from tests.integration.test_cli import overdue
from workers.devstack.local_postgres import LocalPostgres
from workflows.contact_types import (
    ContactBasis,
    ContactFacts,
    CreateCallTaskInput,
    NotifyInput,
)
from workflows.policy import CallQueue, NotifyKind

pytestmark = pytest.mark.integration

POLICY = ROOT / "tests" / "policies" / "compliance.yaml"
PLANTED_ZONE = "Asia/Shanghai"
PLANTED_DAY = date(2026, 11, 2)


@dataclass(frozen=True)
class Db:
    url: str
    pool: asyncpg.Pool


@pytest.fixture
async def db(postgres: LocalPostgres) -> AsyncIterator[Db]:
    name = f"receipts_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres.admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = postgres.url.replace(f"/{postgres.database}?", f"/{name}?")
    await upgrade_async(url)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    assert pool is not None
    try:
        yield Db(url, pool)
    finally:
        await pool.close()


def facts(basis: ContactBasis = "stage", *, windowed: bool = True) -> ContactFacts:
    """What the workflow would carry under tests/policies/compliance.yaml."""
    return ContactFacts(
        basis=basis,
        decided_at=datetime.now(UTC),
        policy_id="compliance-test",
        policy_version=1,
        jurisdiction="CN",
        time_zone=CUSTOMER_ZONE,
        window_start=time(8) if windowed else None,
        window_end=time(22) if windowed else None,
        sms_per_day=3,
        sms_per_week=5,
        calls_per_day=2,
        calls_per_7_days=3,
        sms_opted_out=False,
        contact_ceased=False,
        open_disputes=0,
        vulnerable=False,
    )


async def send_sms(pool: asyncpg.Pool, customer: Customer, stage_id: str = "d1_sms") -> str:
    sms = sms_input(customer, stage_id).model_copy(update={"facts": facts()})
    await ActivityEnvironment().run(SmsActivities(pool, RecordingSmsSender()).send_sms, sms)
    return sms.idempotency_key


async def send_notice(pool: asyncpg.Pool, customer: Customer) -> str:
    notice = NotifyInput(
        idempotency_key=f"{customer.account_id}/e/d1_app/1",
        account_id=customer.account_id,
        stage_id="d1_app",
        kind=NotifyKind.APP_NOTICE,
        amount_minor=50_000,
        currency="CNY",
        days_past_due=1,
        facts=facts(),
    )
    await ActivityEnvironment().run(NotifyActivities(pool, None).send_notification, notice)
    return notice.idempotency_key


async def create_task(pool: asyncpg.Pool, customer: Customer) -> str:
    task = CreateCallTaskInput(
        idempotency_key=f"{customer.account_id}/e/d2_call/1",
        account_id=customer.account_id,
        stage_id="d2_call",
        queue=CallQueue.GENERAL,
        priority=50,
        due_at=datetime.now(UTC),
        facts=facts(),
    )
    await ActivityEnvironment().run(CallTaskActivities(pool).create_call_task, task)
    return task.idempotency_key


MAKE = {"sms": send_sms, "notify": send_notice, "call_task": create_task}


@pytest.mark.parametrize("channel", ["sms", "notify", "call_task"])
async def test_each_contact_writes_one_receipt_at_its_own_instant(db: Db, channel: str) -> None:
    customer = await add_customer(db.pool)
    key = await MAKE[channel](db.pool, customer)
    await MAKE[channel](db.pool, customer)  # a retry: the same contact, no second receipt
    rows = await db.pool.fetch("SELECT * FROM compliance_receipts WHERE contact_key = $1", key)
    assert len(rows) == 1
    receipt = rows[0]
    made_at = await db.pool.fetchval(
        "SELECT created_at FROM call_tasks WHERE idempotency_key = $1"
        if channel == "call_task"
        else "SELECT created_at FROM contact_ledger WHERE idempotency_key = $1",
        key,
    )
    assert receipt["at"] == made_at  # written in the transaction that made the contact
    assert receipt["local_time"] == made_at.astimezone(ZoneInfo(CUSTOMER_ZONE)).replace(tzinfo=None)
    assert (receipt["channel"], receipt["account_id"], receipt["basis"]) == (
        channel,
        customer.account_id,
        "stage",
    )
    assert (receipt["policy_id"], receipt["policy_version"]) == ("compliance-test", 1)
    assert (receipt["window_start"], receipt["window_end"]) == (time(8), time(22))
    assert receipt["sms_consent"] == "never_changed"
    assert (receipt["sms_today"], receipt["calls_today"]) == (
        (1, 0) if channel == "sms" else (0, 1) if channel == "call_task" else (0, 0)
    )
    # No personal data: neither the name nor the number appears anywhere in the receipt.
    text = json.dumps({k: str(v) for k, v in dict(receipt).items()})
    assert customer.name not in text and customer.phone not in text


async def test_the_notice_body_the_backend_gets_carries_no_facts(db: Db) -> None:
    customer = await add_customer(db.pool)
    key = await send_notice(db.pool, customer)
    body = await db.pool.fetchval("SELECT body FROM contact_ledger WHERE idempotency_key = $1", key)
    assert "facts" not in json.loads(await open_text(db.pool, body) or "")


async def test_a_receipt_that_cannot_be_written_leaves_no_contact(db: Db) -> None:
    customer = await add_customer(db.pool)
    key = f"{customer.account_id}/e/d1_sms/1"
    new = NewContact(key, customer.account_id, "sms", "d1_sms", None, body="x", recipient="+1")
    broken = receipts.Receipt(key, customer.account_id, "sms", "d1_sms", "bogus")  # type: ignore[arg-type]
    with pytest.raises(asyncpg.CheckViolationError):
        await contact_ledger.create_or_get(db.pool, new, broken)
    assert await db.pool.fetchval("SELECT count(*) FROM contact_ledger") == 0
    assert await db.pool.fetchval("SELECT count(*) FROM compliance_receipts") == 0


async def test_a_failed_ledger_insert_leaves_no_receipt(db: Db) -> None:
    customer = await add_customer(db.pool)
    key = f"{customer.account_id}/e/d1_sms/1"
    new = NewContact(key, customer.account_id, "fax", "d1_sms", None)  # type: ignore[arg-type]
    receipt = receipts.from_facts(
        contact_key=key,
        account_id=customer.account_id,
        channel="sms",
        stage_id="d1_sms",
        facts=facts(),
    )
    with pytest.raises(asyncpg.CheckViolationError):
        await contact_ledger.create_or_get(db.pool, new, receipt)
    assert await db.pool.fetchval("SELECT count(*) FROM compliance_receipts") == 0


def audit(db: Db, *args: str) -> tuple[int, str]:
    result = overdue("compliance", "audit", "--policy", str(POLICY), *args, DATABASE_URL=db.url)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout


async def test_the_audit_of_lawful_contacts_finds_nothing(db: Db) -> None:
    customer = await add_customer(db.pool)
    await send_sms(db.pool, customer)
    await send_notice(db.pool, customer)
    await create_task(db.pool, customer)
    code, out = audit(db)
    assert code == 0, out
    assert "checked 3 receipts and 3 ledger rows against 1 policies: 0 violations" in out


async def test_the_audit_reports_an_sms_sent_after_a_cease_request(db: Db) -> None:
    customer = await add_customer(db.pool)
    async with db.pool.acquire() as conn, conn.transaction():
        await reported_events.record_once(
            conn,
            account_id=customer.account_id,
            kind="contact.ceased",
            event_id="cease-1",
            actor="billing",
            details={"request_id": "cease-1"},
        )
    # The workflow had not seen the request yet (its facts say not ceased): a race the audit
    # must catch from the Postgres record.
    key = await send_sms(db.pool, customer)
    code, out = audit(db, "--json")
    assert code == 1
    lines = [json.loads(line) for line in out.splitlines()]
    assert {"account_id": customer.account_id, "contact_key": key, "rule": "after_cease"} == {
        k: lines[0][k] for k in ("account_id", "contact_key", "rule")
    }
    assert lines[-1]["summary"]["violations"] == 1


async def plant_sms(
    db: Db,
    account_id: str,
    n: int,
    local: datetime,
    jurisdiction: str = "CN",
    sent: datetime | None = None,
) -> str:
    """An SMS in the ledger and its receipt, inserted by hand at `local` (PLANTED_ZONE), at
    the provider at `sent` (local too; default: at once)."""
    at = local.replace(tzinfo=ZoneInfo(PLANTED_ZONE)).astimezone(UTC)
    sent_at = (sent or local).replace(tzinfo=ZoneInfo(PLANTED_ZONE))
    key = f"{account_id}/e/planted_{n}/1"
    async with db.pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """
            INSERT INTO contact_ledger (idempotency_key, account_id, channel, stage_id, status,
                                        created_at)
            VALUES ($1, $2, 'sms', 'd1_sms', 'delivered', $3)
            """,
            key,
            account_id,
            at,
        )
        await conn.execute(
            """
            INSERT INTO compliance_receipts
                (contact_key, account_id, channel, stage_id, basis, at, time_zone, local_time,
                 jurisdiction, window_start, window_end, sms_today, sms_7_days, calls_today,
                 calls_7_days, sms_per_day, sms_per_week, calls_per_day, calls_per_7_days,
                 sms_consent, policy_id, policy_version)
            VALUES ($1, $2, 'sms', 'd1_sms', 'stage', $3, $4, $5, $6, '08:00', '22:00',
                    1, 1, 0, 0, 3, 5, 2, 3, 'never_changed', 'compliance-test', 1)
            """,
            key,
            account_id,
            at,
            PLANTED_ZONE,
            local,
            jurisdiction,
        )
        # Its status event (written by the ledger's trigger at the wall clock) as it happened.
        await conn.execute(
            """
            UPDATE contact_events SET occurred_at = $2
             WHERE ledger_id = (SELECT id FROM contact_ledger WHERE idempotency_key = $1)
            """,
            key,
            sent_at,
        )
    return key


async def test_the_audit_reports_a_2330_sms_and_a_fourth_sms_in_a_day(db: Db) -> None:
    account = f"acct-{uuid.uuid4().hex[:10]}"
    for n, hour in enumerate((9, 11, 13)):
        await plant_sms(db, account, n, datetime.combine(PLANTED_DAY, time(hour)))
    late = await plant_sms(db, account, 3, datetime.combine(PLANTED_DAY, time(23, 30)))
    code, out = audit(db)
    assert code == 1
    assert f"{account}  {late}  outside_window: 2026-11-02 23:30:00 local" in out
    assert f"{account}  {late}  over_cap: 4 SMS on 2026-11-02 (local), cap 3" in out
    assert f"{account}  {late}  sent_outside_window: at the provider 2026-11-02 23:30:00" in out
    assert "3 violations (outside_window 1, over_cap 1, sent_outside_window 1)" in out
    # --since after them: nothing to report.
    after = datetime.combine(PLANTED_DAY + timedelta(days=1), time(0), tzinfo=UTC)
    code, out = audit(db, "--since", after.isoformat())
    assert code == 0, out


async def test_the_audit_reports_an_sms_on_a_rest_day_of_the_customers_calendar(db: Db) -> None:
    account = f"acct-{uuid.uuid4().hex[:10]}"
    blackout = datetime.combine(date(2026, 11, 3), time(10))  # JP's blackout day: no SMS
    key = await plant_sms(db, account, 0, blackout, jurisdiction="JP")
    code, out = audit(db)
    assert code == 1
    assert f"{account}  {key}  rest_day: 2026-11-03 is a rest day: no sms on it" in out
    assert "1 violations (rest_day 1)" in out


async def test_the_audit_reports_an_sms_that_reached_the_provider_after_the_window(db: Db) -> None:
    # Decided and written at 21:50, retried through a provider outage, sent at 22:20.
    account = f"acct-{uuid.uuid4().hex[:10]}"
    written = datetime.combine(PLANTED_DAY, time(21, 50))
    sent = datetime.combine(PLANTED_DAY, time(22, 20))
    key = await plant_sms(db, account, 0, written, sent=sent)
    code, out = audit(db)
    assert code == 1
    assert f"{key}  sent_outside_window: at the provider 2026-11-02 22:20:00 local" in out
    assert "1 violations (sent_outside_window 1)" in out


async def test_the_audit_reports_a_contact_without_a_receipt(db: Db) -> None:
    account = f"acct-{uuid.uuid4().hex[:10]}"
    await db.pool.execute(
        """
        INSERT INTO contact_ledger (idempotency_key, account_id, channel, stage_id, status)
        VALUES ($1, $2, 'notify', 'd1_app', 'delivered')
        """,
        f"{account}/e/d1_app/1",
        account,
    )
    code, out = audit(db)
    assert code == 1
    assert f"{account}  {account}/e/d1_app/1  missing_receipt: notify contact (delivered)" in out


def test_a_since_that_is_not_an_instant_is_refused(tmp_path: Path) -> None:
    result = overdue("compliance", "audit", "--since", "yesterday", DATABASE_URL="postgresql://x")
    assert result.returncode == 2
    assert "not an ISO 8601 date or time" in result.stderr

"""Consent in compliance receipts and `overdue compliance audit`: a contact on a channel whose
policy requires consent records the grant it relied on, and the audit flags one made without a
grant in `consent_events` at its instant (`no_consent`), whatever the receipt says."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time

import asyncpg
import pytest
from temporalio.testing import ActivityEnvironment

from activities.sms import SmsActivities
from activities.sms_senders import RecordingSmsSender
from overdue.compliance_audit import Auditor, Violation, load_policies
from overdue.store import compliance_reads, consents
from overdue.store.consents import ConsentEvent
from tests.integration.conftest import ROOT
from tests.integration.side_effects.support import Customer, add_customer, sms_input
from tests.integration.side_effects.test_receipts import Db, db
from tests.integration.support import CUSTOMER_ZONE
from workflows.contact_types import ConsentBasis, ContactFacts

pytestmark = pytest.mark.integration
__all__ = ["db"]  # the fixture: a database of the test's own

POLICY = ROOT / "tests" / "policies" / "compliance_consent.yaml"
SIGNED = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def facts(consent: ConsentBasis | None) -> ContactFacts:
    return ContactFacts(
        basis="stage",
        decided_at=datetime.now(UTC),
        policy_id="compliance-consent",
        policy_version=1,
        jurisdiction="CN",
        time_zone=CUSTOMER_ZONE,
        window_start=time(0),
        window_end=time(23, 59),
        sms_per_day=5,
        sms_per_week=10,
        calls_per_day=2,
        calls_per_7_days=3,
        sms_opted_out=False,
        contact_ceased=False,
        open_disputes=0,
        vulnerable=False,
        consent=consent,
    )


async def send(pool: asyncpg.Pool, customer: Customer, consent: ConsentBasis | None) -> str:
    sms = sms_input(customer).model_copy(update={"facts": facts(consent)})
    await ActivityEnvironment().run(SmsActivities(pool, RecordingSmsSender()).send_sms, sms)
    return sms.idempotency_key


async def record(pool: asyncpg.Pool, account_id: str, granted: bool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await consents.record_change(
            conn,
            ConsentEvent(
                account_id=account_id,
                change_id=f"c-{uuid.uuid4().hex[:8]}",
                channel="sms",
                granted=granted,
                source="contract",
                at=SIGNED,
                actor="backend",
            ),
        )


async def violations(pool: asyncpg.Pool) -> list[Violation]:
    policies, problems = load_policies([POLICY])
    assert problems == []
    auditor = Auditor(policies)
    async with pool.acquire() as conn:
        page = await compliance_reads.receipts_page(conn, after=(EPOCH, 0), limit=100)
    return [v for r in page for v in auditor.check(r)]


GRANT = ConsentBasis(channel="sms", source="contract", given_at=SIGNED)


async def test_a_contact_with_its_consent_recorded_passes_and_its_receipt_says_so(
    db: Db,
) -> None:
    customer = await add_customer(db.pool)
    await record(db.pool, customer.account_id, True)
    key = await send(db.pool, customer, GRANT)
    row = await db.pool.fetchrow(
        "SELECT consent_channel, consent_source, consent_given_at FROM compliance_receipts "
        "WHERE contact_key = $1",
        key,
    )
    assert row is not None and tuple(row) == ("sms", "contract", SIGNED)
    assert await violations(db.pool) == []


@pytest.mark.parametrize("recorded", [None, False], ids=["never_recorded", "withdrawn"])
async def test_the_audit_flags_a_contact_made_without_the_required_consent(
    db: Db, recorded: bool | None
) -> None:
    customer = await add_customer(db.pool)
    if recorded is not None:
        await record(db.pool, customer.account_id, recorded)
    # The receipt claims a grant: the audit believes Postgres' record, not the receipt.
    key = await send(db.pool, customer, GRANT)
    found = await violations(db.pool)
    held = "never recorded" if recorded is None else "withdrawn"
    assert [(v.contact_key, v.rule, v.details) for v in found] == [
        (key, "no_consent", f"sms needs recorded consent; it was {held}")
    ]

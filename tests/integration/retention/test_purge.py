"""The retention purge removes exactly what expired and nothing under a floor.

One fixed clock (`NOW`, handed in as the workflow would hand its own); every class gets a row
a minute outside its period (removed) and a minute inside it (kept). Collection records and
audit events use their legal floor, 730 days, as their period.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from activities.retention import RetentionActivities
from overdue.settings_retention import RetentionPeriods
from overdue.store.audit_chain import verify_chain
from tests.integration.retention import support as rows
from tests.integration.retention.conftest import Database
from workflows.retention_types import PurgeBatchInput, add_counts

pytestmark = pytest.mark.integration

NOW = datetime(2026, 6, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
PERIODS = RetentionPeriods(
    contact_details=90,
    message_bodies=30,
    free_texts=60,
    evidence_files=30,
    audit_events=730,
    collection_records=730,
    selfservice_links=90,
)
EXPECTED = {
    "message_bodies": 4,  # L1, L3, L4 sent; I1 received
    "free_texts": 1,
    "contact_details": 1,  # acct-idle
    "evidence_files": 0,  # none are stored yet (issue 16)
    "collection_records": 4,  # R1, D1, T1, L3
    "consent_events": 0,  # none seeded here: test_consent_purge.py
    "audit_events": 2,  # A1, A2
    "selfservice_links": 1,  # S1, with its session and code
}


def outside(days: int) -> datetime:
    return NOW - timedelta(days=days) - MINUTE


def inside(days: int) -> datetime:
    return NOW - timedelta(days=days) + MINUTE


async def _open_workflows(account_id: str) -> bool:
    return account_id == "acct-open"


async def _seed(conn: asyncpg.Connection) -> dict[str, object]:
    """Each class's rows just outside and just inside its period; returns their ids."""
    seeded: dict[str, object] = {
        # The audit chain first, in this order: A4 is old but after A3, which is not.
        "A1": await rows.audit(conn, None, outside(730) - MINUTE),
        "A2": await rows.audit(conn, None, outside(730)),
        "A3": await rows.audit(conn, None, inside(730)),
        "A4": await rows.audit(conn, None, outside(800)),
        "L1": await rows.ledger_row(conn, "acct-msgs", outside(30)),
        "L2": await rows.ledger_row(conn, "acct-msgs", inside(30)),
        "L3": await rows.ledger_row(conn, "acct-old", outside(730)),
        "L4": await rows.ledger_row(conn, "acct-old", inside(730)),
        "L5": await rows.ledger_row(conn, "acct-active", NOW - timedelta(days=10)),
        "I1": await rows.inbound(conn, outside(30)),
        "I2": await rows.inbound(conn, inside(30)),
        "F1": await rows.free_text(conn, "acct-msgs", outside(60)),
        "F2": await rows.free_text(conn, "acct-msgs", inside(60)),
        "R1": await rows.receipt(conn, "acct-old", outside(730)),
        "R2": await rows.receipt(conn, "acct-old", inside(730)),
    }
    for name, at in (("1", outside(730)), ("2", inside(730))):
        task = await rows.call_task(conn, "acct-old", at)
        seeded["T" + name] = task
        seeded["D" + name] = await rows.dial(conn, task, "acct-old", at)
    seeded["S1"] = await rows.selfservice_link(conn, "acct-msgs", outside(90))
    seeded["S2"] = await rows.selfservice_link(conn, "acct-msgs", inside(90))
    await rows.contact(conn, "acct-idle", outside(90))
    await rows.contact(conn, "acct-recent", inside(90))
    await rows.contact(conn, "acct-open", outside(200))  # its workflow is still running
    await rows.contact(conn, "acct-active", outside(200))  # but contacted 10 days ago (L5)
    return seeded


async def _check_what_is_left(conn: asyncpg.Connection, s: dict[str, object]) -> None:
    ledger = {r["id"]: r for r in await conn.fetch("SELECT * FROM contact_ledger")}
    assert set(ledger) == {s["L1"], s["L2"], s["L4"], s["L5"]}
    assert [ledger[s[n]]["body"] is None for n in ("L1", "L2", "L4", "L5")] == [
        True, False, True, False,
    ]  # fmt: skip
    inbound = {r["id"]: r for r in await conn.fetch("SELECT * FROM inbound_messages")}
    assert (inbound[s["I1"]]["body"], inbound[s["I1"]]["from_e164"]) == ("", "")
    assert inbound[s["I2"]]["body"] == "I will pay on Friday"
    assert await rows.ids(conn, "free_texts") == {s["F2"]}
    assert await rows.ids(conn, "customer_contacts", "account_id") == {
        "acct-recent", "acct-open", "acct-active",
    }  # fmt: skip
    assert await rows.ids(conn, "compliance_receipts") == {s["R2"]}
    assert await rows.ids(conn, "dial_attempts") == {s["D2"]}
    assert await rows.ids(conn, "call_tasks") == {s["T2"]}
    for table in ("selfservice_links", "selfservice_sessions", "selfservice_codes"):
        assert await rows.ids(conn, table, "token_hash") == {s["S2"]}, table
    audit_left = await rows.ids(conn, "audit_events")
    assert {s["A3"], s["A4"]} <= audit_left and not {s["A1"], s["A2"]} & audit_left


async def test_one_batch_removes_exactly_what_expired(db: Database) -> None:
    async with db.pool.acquire() as conn:
        seeded = await _seed(conn)
        a2_hash = await conn.fetchval(
            "SELECT row_hash FROM audit_events WHERE id = $1", seeded["A2"]
        )
    purge = RetentionActivities(db.pool, PERIODS, _open_workflows)
    result = await purge.purge_batch(PurgeBatchInput(now=NOW, batch_size=100))
    assert result.counts == EXPECTED and result.done
    async with db.pool.acquire() as conn:
        await _check_what_is_left(conn, seeded)
        # The chain still verifies, from the anchor the purge recorded (A2's hash).
        report = await verify_chain(conn)
        assert report.ok, report.broken
        anchor = await conn.fetchrow("SELECT * FROM audit_chain_anchors")
        assert anchor["hash"] == a2_hash
        assert anchor["purged"] == 2
        # What the purge did is in the audit trail: counts, no personal values.
        event = await conn.fetchrow(
            "SELECT * FROM audit_events WHERE kind = 'retention.purged' ORDER BY chain_seq"
        )
        assert event["actor"] == "retention-purge" and event["account_id"] is None
        assert "Li Na" not in event["details"] and "+86" not in event["details"]


async def test_small_batches_come_to_the_same_end(db: Database) -> None:
    async with db.pool.acquire() as conn:
        seeded = await _seed(conn)
    purge = RetentionActivities(db.pool, PERIODS, _open_workflows)
    total: dict[str, int] = add_counts({}, {})
    after = ""
    for _ in range(20):
        result = await purge.purge_batch(
            PurgeBatchInput(now=NOW, batch_size=1, contacts_after=after)
        )
        total, after = add_counts(total, result.counts), result.contacts_after
        if result.done:
            break
    assert result.done and total == EXPECTED
    async with db.pool.acquire() as conn:
        await _check_what_is_left(conn, seeded)
        assert (await verify_chain(conn)).ok


async def test_the_floors_hold_against_a_direct_delete(db: Database) -> None:
    """Past the purge's own path, the triggers still refuse: an audit event after the latest
    anchor, a receipt younger than the latest recorded horizon."""
    async with db.pool.acquire() as conn:
        seeded = await _seed(conn)
    await RetentionActivities(db.pool, PERIODS, _open_workflows).purge_batch(
        PurgeBatchInput(now=NOW, batch_size=100)
    )
    for statement, row in (
        ("DELETE FROM audit_events WHERE id = $1", seeded["A3"]),
        ("DELETE FROM compliance_receipts WHERE id = $1", seeded["R2"]),
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await db.pool.execute(statement, row)


async def test_nothing_expired_purges_nothing_but_is_still_recorded(db: Database) -> None:
    async with db.pool.acquire() as conn:
        await _seed(conn)
    early = RetentionActivities(db.pool, PERIODS, _open_workflows)
    result = await early.purge_batch(PurgeBatchInput(now=NOW - timedelta(days=900), batch_size=100))
    assert result.counts == dict.fromkeys(EXPECTED, 0) and result.done
    assert (
        await db.pool.fetchval("SELECT count(*) FROM audit_events WHERE kind = 'retention.purged'")
        == 1
    )

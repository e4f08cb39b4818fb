"""The audit trail's hash chain: it verifies, and an edit, a removal or a lost end is found
with the row's id, even by a superuser who turns the append-only trigger off."""

from __future__ import annotations

import asyncio
import io
import itertools

import asyncpg
import pytest

from overdue.migrate import upgrade_async
from overdue.store.audit import record_event
from overdue.store.audit_chain import GENESIS, verify_chain
from tests.integration.retention.conftest import Database, new_database
from workers.cli.retention_commands import verify
from workers.devstack.local_postgres import LocalPostgres

pytestmark = pytest.mark.integration


async def _record(pool: asyncpg.Pool, n: int, account: str = "acct-chain") -> list[int]:
    return [
        await record_event(
            pool, account_id=account, actor="agent-1", kind="call.note", details={"i": i}
        )
        for i in range(n)
    ]


async def _tamper(pool: asyncpg.Pool, statement: str, *args: object) -> None:
    """What a superuser can do: switch the append-only trigger off, change, switch it on."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
        await conn.execute(statement, *args)
        await conn.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change")


async def test_a_chain_of_appended_events_verifies(db: Database) -> None:
    ids = await _record(db.pool, 5)
    rows = await db.pool.fetch(
        "SELECT id, chain_seq, prev_hash, row_hash FROM audit_events ORDER BY chain_seq"
    )
    assert [r["id"] for r in rows] == ids
    assert bytes(rows[0]["prev_hash"]) == GENESIS
    for before, after in itertools.pairwise(rows):
        assert after["prev_hash"] == before["row_hash"]
    report = await verify_chain(db.pool)
    assert report.ok and report.checked == 5
    out = io.StringIO()
    assert await verify(db.url, out=out) == 0
    assert "audit chain OK: 5 events" in out.getvalue()


async def test_an_altered_row_is_found_by_its_id(db: Database) -> None:
    ids = await _record(db.pool, 5)
    await _tamper(
        db.pool, "UPDATE audit_events SET details = '{\"i\": 99}'::jsonb WHERE id = $1", ids[2]
    )
    report = await verify_chain(db.pool)
    assert report.broken is not None
    assert report.broken.event_id == ids[2]
    assert "altered" in report.broken.reason
    out = io.StringIO()
    assert await verify(db.url, out=out) == 1
    assert f"event id {ids[2]}" in out.getvalue()


async def test_a_removed_row_is_found_at_the_next_one(db: Database) -> None:
    ids = await _record(db.pool, 5)
    await _tamper(db.pool, "DELETE FROM audit_events WHERE id = $1", ids[1])
    report = await verify_chain(db.pool)
    assert report.broken is not None and report.broken.event_id == ids[2]


async def test_a_removed_end_is_found(db: Database) -> None:
    ids = await _record(db.pool, 4)
    await _tamper(db.pool, "DELETE FROM audit_events WHERE id = $1", ids[-1])
    report = await verify_chain(db.pool)
    assert report.broken is not None and report.broken.event_id is None
    assert "removed" in report.broken.reason


async def test_a_rehashed_row_still_breaks_the_next_link(db: Database) -> None:
    """Recomputing the altered row's own hash does not help: the next row links to the old."""
    ids = await _record(db.pool, 4)
    await _tamper(
        db.pool,
        """UPDATE audit_events SET actor = 'someone-else',
               row_hash = audit_event_hash(prev_hash, id, account_id, 'someone-else', kind,
                                           details, occurred_at)
            WHERE id = $1""",
        ids[1],
    )
    report = await verify_chain(db.pool)
    assert report.broken is not None and report.broken.event_id == ids[2]
    assert "link" in report.broken.reason


async def test_concurrent_inserts_make_one_chain(db: Database) -> None:
    async def writer(w: int) -> None:
        for i in range(10):
            async with db.pool.acquire() as conn, conn.transaction():
                await record_event(
                    conn, account_id=f"a{w}", actor="system", kind="x.y", details={"i": i}
                )
                await asyncio.sleep(0)

    await asyncio.gather(*(writer(w) for w in range(6)))
    report = await verify_chain(db.pool, page=7)  # pages that end mid-chain
    assert report.ok and report.checked == 60


async def test_the_migration_chains_the_rows_already_there(
    retention_postgres: LocalPostgres,
) -> None:
    url = await new_database(retention_postgres, template=None)
    await upgrade_async(url, "0012")
    conn = await asyncpg.connect(url)
    try:
        for i in range(3):
            await conn.execute(
                "INSERT INTO audit_events (account_id, actor, kind, details) "
                "VALUES ($1, 'system', 'old.event', jsonb_build_object('i', $2::int))",
                None if i == 1 else f"acct-{i}",
                i,
            )
        await upgrade_async(url)
        report = await verify_chain(conn)
        assert report.ok and report.checked == 3
        await record_event(conn, account_id="acct-new", actor="system", kind="new.event")
        assert (await verify_chain(conn)).checked == 4
    finally:
        await conn.close()


async def test_the_migration_goes_down_and_up_again(retention_postgres: LocalPostgres) -> None:
    from alembic import command

    from overdue.migrate import alembic_config

    url = await new_database(retention_postgres)
    conn = await asyncpg.connect(url)
    try:
        await record_event(conn, account_id="acct-1", actor="system", kind="a.b")
    finally:
        await conn.close()
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0012")
    await upgrade_async(url)
    conn = await asyncpg.connect(url)
    try:
        assert (await verify_chain(conn)).checked == 1
    finally:
        await conn.close()
